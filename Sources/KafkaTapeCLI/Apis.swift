import ArgumentParser
import KafkaProtocol

extension KafkaTape {
    /// Lists the API keys the codec decodes.
    struct Apis: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every Kafka API key with the version range the codec decodes.",
            discussion: "Versions are the union of Kafka 4.2.1's and 3.9's valid versions.")

        @Flag(help: "One JSON array: [{\"apiKey\":0,\"name\":\"Produce\",\"minVersion\":0,\"maxVersion\":13,\"firstFlexibleVersion\":9}, ...].")
        var json = false

        func run() throws {
            if json {
                var items: [KafkaValue] = []
                for api in KafkaAPIs.all {
                    items.append(.object(KafkaObject([
                        ("apiKey", .int(Int64(api.apiKey))),
                        ("name", .string(api.name)),
                        ("minVersion", .int(Int64(api.versions.lowerBound))),
                        ("maxVersion", .int(Int64(api.versions.upperBound))),
                        ("firstFlexibleVersion", api.firstFlexibleVersion.map { .int(Int64($0)) } ?? .null),
                    ])))
                }
                print(KafkaJSON.render(.array(items)))
                return
            }
            let width = KafkaAPIs.all.map(\.name.count).max() ?? 10
            print("KEY  " + "NAME".padding(width) + "  VERSIONS  FLEXIBLE")
            for api in KafkaAPIs.all {
                let key = String(api.apiKey)
                let range = "\(api.versions.lowerBound)-\(api.versions.upperBound)"
                print(
                    String(repeating: " ", count: max(0, 3 - key.count)) + key + "  " + api.name.padding(width) + "  "
                        + range.padding(8) + "  " + (api.firstFlexibleVersion.map { "\($0)+" } ?? "none"))
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
