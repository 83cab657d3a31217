import Foundation
import KafkaProtocol
import Testing

@testable import KafkaCheck

/// I16 derives tagged-field defaults at runtime (see `TaggedFieldLint`); only defaults that are not
/// the type's zero need the table. This checks the table against Kafka's JSON message specs.
@Suite struct TaggedDefaultsSpecTests {
    static let specDirectories = ["kafka-message-specs", "kafka-message-specs-3.9"].map {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/\($0)")
    }

    static var specsPresent: Bool { specDirectories.allSatisfy { FileManager.default.fileExists(atPath: $0.path) } }

    /// (message name, field path, default) of every tagged field with an explicit non-zero default.
    static func nonZeroTaggedDefaults() throws -> [(String, [String], String)] {
        var out: [(String, [String], String)] = []
        for dir in specDirectories {
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".json") {
                let raw = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                let text = raw.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { line -> Substring in
                        guard let r = line.range(of: "//") else { return line }
                        return line[..<r.lowerBound]
                    }.joined(separator: "\n")
                guard let spec = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                    let name = spec["name"] as? String
                else { continue }
                func walk(_ fields: [[String: Any]], _ path: [String]) {
                    for f in fields {
                        guard let fname = f["name"] as? String else { continue }
                        if f["tag"] != nil, let d = f["default"] {
                            let value = "\(d)"
                            if !["0", "false", "", "0.0"].contains(value) { out.append((name, path + [fname], value)) }
                        }
                        walk(f["fields"] as? [[String: Any]] ?? [], path + [fname])
                    }
                }
                walk(spec["fields"] as? [[String: Any]] ?? [], [])
            }
        }
        return out
    }

    @Test(.enabled(if: specsPresent, "../shared/kafka-message-specs not present"))
    func everyNonZeroTaggedDefaultIsInTheTable() throws {
        let found = try Self.nonZeroTaggedDefaults()
        #expect(found.count >= 3)
        for (message, path, value) in found {
            // The table is keyed by Swift type and property: the field's property name, lower camel case.
            let property = (path.last ?? "").prefix(1).lowercased() + (path.last ?? "").dropFirst()
            let matches = TaggedFieldLint.explicitDefaults.filter { key, _ in key.hasPrefix(message + ".") && key.hasSuffix("." + property) }
            #expect(!matches.isEmpty, "\(message).\(path.joined(separator: ".")) default \(value) missing from explicitDefaults")
            let expected = value == "null" ? "nil" : value
            #expect(matches.values.allSatisfy { $0 == expected }, "\(message).\(path.joined(separator: ".")): \(matches) vs \(value)")
        }
    }
}
