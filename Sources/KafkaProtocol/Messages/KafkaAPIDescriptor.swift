/// The API table (generated part in `Generated/KafkaAPIs.swift`) and the header-version rules.
public enum KafkaAPIs {

    /// The descriptor for an API key, or nil for a key this codec does not know.
    public static func descriptor(apiKey: Int16) -> KafkaAPIDescriptor? {
        byKey[Int(apiKey)]
    }

    private static let byKey: [Int: KafkaAPIDescriptor] = Dictionary(
        all.map { (Int($0.apiKey), $0) }, uniquingKeysWith: { a, _ in a })
}

/// One API as this codec knows it: key, name, versions, where flexible versions start, and the
/// generated request and response types. `KafkaAPIs.all` lists them.
public struct KafkaAPIDescriptor: Sendable {
    /// The API key every request header starts with.
    public let apiKey: Int16
    /// The API name as Kafka's docs use it (`Produce`, `Fetch`, `ApiVersions`).
    public let name: String
    /// The versions this codec decodes: Kafka 4.2.1's, plus those only 3.9 still had.
    public let versions: ClosedRange<Int16>
    /// The first flexible version (KIP-482: compact strings and arrays, tagged fields), or nil when none is.
    public let firstFlexibleVersion: Int16?
    /// The generated request body type.
    public let request: any KafkaMessage.Type
    /// The generated response body type.
    public let response: any KafkaMessage.Type

    /// A descriptor from its parts (the generated `KafkaAPIs.all` makes every one).
    public init(
        apiKey: Int16, name: String, versions: ClosedRange<Int16>, firstFlexibleVersion: Int16?,
        request: any KafkaMessage.Type, response: any KafkaMessage.Type
    ) {
        self.apiKey = apiKey
        self.name = name
        self.versions = versions
        self.firstFlexibleVersion = firstFlexibleVersion
        self.request = request
        self.response = response
    }

    /// Whether `version` uses the flexible encodings (KIP-482).
    public func isFlexible(_ version: Int16) -> Bool {
        guard let f = firstFlexibleVersion else { return false }
        return version >= f
    }

    /// Request header version: v2 for flexible versions, else v1; ControlledShutdown v0 used v0 (no
    /// client id) before Kafka 4.0.
    public func requestHeaderVersion(_ version: Int16) -> Int16 {
        if isFlexible(version) { return 2 }
        if apiKey == 7 && version == 0 { return 0 }
        return 1
    }

    /// Response header version: v1 for flexible versions, else v0. ApiVersions responses always use
    /// v0 so a client can parse the answer before it knows what the broker supports (KIP-511).
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        if apiKey == 18 { return 0 }
        return isFlexible(version) ? 1 : 0
    }
}
