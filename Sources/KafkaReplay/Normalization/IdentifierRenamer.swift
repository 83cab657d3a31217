import KafkaProtocol
import NIOConcurrencyHelpers

/// Consistent renaming of broker-chosen identifiers (`NoiseTreatment.rename`) within one capture:
/// the first producer id met becomes `producer#1`, the next different one `producer#2`, and every
/// later appearance of a value gets the name it got first. Two captures compared in the same order
/// (diff walks aligned exchanges, A then B) then agree exactly when their identifiers are used the
/// same way, whatever the values.
///
/// The values that mean "no identifier" (-1, 0, the empty string, null) are kept as they are:
/// "no producer id" is not a producer.
public final class IdentifierRenamer: Sendable {
    private let names = NIOLockedValueBox([String: [KafkaValue: Int]]())

    /// A renamer that has seen no identifier yet (one per capture).
    public init() {}

    /// The consistent name of `value` in `namespace`.
    public func rename(_ value: KafkaValue, in namespace: String) -> KafkaValue {
        switch value {
        case .null: return value
        case .int(let v) where v == 0 || v == -1: return value
        case .string(let s) where s.isEmpty: return value
        case .uuid(let u) where u == .zero: return value
        case .array, .object, .records, .bytes: return value
        default: break
        }
        let n = names.withLockedValue { table -> Int in
            var space = table[namespace, default: [:]]
            if let n = space[value] { return n }
            let n = space.count + 1
            space[value] = n
            table[namespace] = space
            return n
        }
        return .string("\(namespace)#\(n)")
    }
}
