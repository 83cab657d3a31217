import KafkaProtocol
import NIOConcurrencyHelpers

/// Counters for the summary `record` prints when it stops.
public final class ProxyStatistics: Sendable {
    public struct Snapshot: Sendable {
        public var connections = 0
        public var requestsByApi: [Int16: Int] = [:]
        public var bytesFromClients = 0
        public var bytesFromBrokers = 0
        public var rewrites = 0
        public var malformedFrames = 0
        public var upstreamFailures = 0
        public var faultsInjected = 0
        public var triggers = 0
    }

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func connectionOpened() { state.withLockedValue { $0.connections += 1 } }

    func request(apiKey: Int16, bytes: Int) {
        state.withLockedValue {
            $0.requestsByApi[apiKey, default: 0] += 1
            $0.bytesFromClients += bytes + 4
        }
    }

    func response(bytes: Int) { state.withLockedValue { $0.bytesFromBrokers += bytes + 4 } }
    func rewrite() { state.withLockedValue { $0.rewrites += 1 } }
    func malformed() { state.withLockedValue { $0.malformedFrames += 1 } }
    func upstreamFailure() { state.withLockedValue { $0.upstreamFailures += 1 } }
    func fault() { state.withLockedValue { $0.faultsInjected += 1 } }
    func trigger() { state.withLockedValue { $0.triggers += 1 } }
}
