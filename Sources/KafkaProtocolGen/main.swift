import Foundation
import KafkaProtocolGenCore

// KafkaProtocolGen: reads Apache Kafka's JSON message specs and writes the Swift codec.
//
//   KafkaProtocolGen --specs DIR [--old-specs DIR] --out DIR [--tests-out DIR]
//
// --specs is the newest spec folder (Kafka 4.2.1: clients/src/main/resources/common/message in an
// Apache Kafka checkout); --old-specs an older one whose removed versions are kept (Kafka 3.9).
// --out receives one Swift file per schema plus KafkaAPIs.swift; --tests-out receives the seeded
// random instances used by the round-trip tests. The work is KafkaProtocolGenCore's, so that the
// generator's tests can call it.

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: KafkaProtocolGen --specs DIR [--old-specs DIR] --out DIR [--tests-out DIR]\n".utf8))
    exit(2)
}

var specsDir: String?
var oldSpecsDir: String?
var outDir: String?
var testsOutDir: String?
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--specs": specsDir = args.popFirst()
    case "--old-specs": oldSpecsDir = args.popFirst()
    case "--out": outDir = args.popFirst()
    case "--tests-out": testsOutDir = args.popFirst()
    case "-h", "--help": usage()
    default:
        FileHandle.standardError.write(Data("KafkaProtocolGen: unknown argument \(a)\n".utf8))
        usage()
    }
}
guard let specsDir, let outDir else { usage() }

do {
    print(try ProtocolGenerator.run(specsDir: specsDir, oldSpecsDir: oldSpecsDir, outDir: outDir, testsOutDir: testsOutDir))
} catch {
    FileHandle.standardError.write(Data("KafkaProtocolGen: \(error)\n".utf8))
    exit(1)
}
