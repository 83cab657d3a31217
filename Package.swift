// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "KafkaTape",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kafkatape", targets: ["KafkaTapeCLI"]),
        .executable(name: "kafkatape-bench", targets: ["KafkaTapeBench"]),
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        // The library behind the CLI: record, read, replay, serve, diff, matrix and check from Swift.
        .library(name: "KafkaTape", targets: ["KafkaTape"]),
        // Test helpers: a mock broker from a capture, a recording proxy, cassettes, in-memory captures.
        .library(name: "KafkaTapeTesting", targets: ["KafkaTapeTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian: zlib, zstd, lz4, snappy (Kafka's compression codecs).
        .systemLibrary(name: "CCompression", path: "Sources/CCompression"),
        // Hardware CRC-32C (SSE4.2) with a portable fallback; used by record batches and captures.
        .target(name: "CKafkaCRC", path: "Sources/CKafkaCRC"),
        // The codec: primitives, framing, headers, record batches, generated messages.
        .target(
            name: "KafkaProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "CCompression",
                "CKafkaCRC",
            ],
            path: "Sources/KafkaProtocol"
        ),
        // The capture file format: writer, reader, recovery of torn tails, rotation.
        .target(
            name: "KafkaCapture",
            dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/KafkaCapture"
        ),
        // The NIO proxy: forwarding with backpressure, correlation tracking, address rewriting, capture tap.
        .target(
            name: "KafkaProxy",
            dependencies: [
                "KafkaProtocol",
                "KafkaCapture",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/KafkaProxy"
        ),
        // libpcap from Debian (libpcap-dev); only KafkaPcap imports it.
        .systemLibrary(name: "CPcap", path: "Sources/CPcap"),
        // pcap export for Wireshark, tcpdump import with TCP reassembly, live sniffing.
        .target(
            name: "KafkaPcap",
            dependencies: ["CPcap", "KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/KafkaPcap"
        ),
        // Replay against a live broker, serve a capture as a mock broker, normalisation and diff, checks.
        .target(
            name: "KafkaReplay",
            dependencies: [
                "KafkaCapture", "KafkaProtocol", "KafkaProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/KafkaReplay"
        ),
        // `kafkatape check`: protocol invariants (I1-I21) over a capture.
        .target(
            name: "KafkaCheck",
            dependencies: ["KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/KafkaCheck"
        ),
        // `kafkatape report` and `diff/matrix --html`: self-contained HTML pages built from the decoded
        // model of dump/stats/check/diff (the page's script decodes nothing itself).
        .target(
            name: "KafkaReport",
            dependencies: ["KafkaCapture", "KafkaProtocol", "KafkaCheck", "KafkaReplay"],
            path: "Sources/KafkaReport"
        ),
        // The `KafkaTape` library product: the capabilities above under one import, and the servers as
        // swift-service-lifecycle `Service`s.
        .target(
            name: "KafkaTape",
            dependencies: [
                "KafkaProtocol", "KafkaCapture", "KafkaProxy", "KafkaReplay", "KafkaCheck", "KafkaReport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/KafkaTape"
        ),
        // `KafkaTapeTesting`: VCR-style helpers for XCTest and Swift Testing.
        .target(
            name: "KafkaTapeTesting",
            dependencies: ["KafkaTape", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Sources/KafkaTapeTesting"
        ),
        // Benchmarks (tools/bench-codec): throughput of the codec and the capture writer.
        .executableTarget(
            name: "KafkaTapeBench",
            dependencies: [
                "KafkaProtocol", "KafkaCapture", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/KafkaTapeBench"
        ),
        // Fuzz targets for libFuzzer (tools/fuzz builds them with -sanitize=fuzzer,address -DFUZZING).
        .executableTarget(
            name: "KafkaTapeFuzz",
            dependencies: ["KafkaProtocol", "KafkaCapture", "KafkaPcap", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/KafkaTapeFuzz"
        ),
        // The generator: Kafka JSON message specs -> Sources/KafkaProtocol/Generated.
        .executableTarget(name: "KafkaProtocolGen", path: "Sources/KafkaProtocolGen"),
        .executableTarget(
            name: "KafkaTapeCLI",
            dependencies: [
                "KafkaProtocol",
                "KafkaCapture",
                "KafkaProxy",
                "KafkaPcap",
                "KafkaReplay",
                "KafkaCheck",
                "KafkaReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/KafkaTapeCLI"
        ),
        .testTarget(
            name: "KafkaProtocolTests",
            dependencies: [
                "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/KafkaProtocolTests",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "KafkaCaptureTests",
            dependencies: ["KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaCaptureTests"
        ),
        .testTarget(
            name: "KafkaProxyTests",
            dependencies: [
                "KafkaProxy", "KafkaCapture", "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/KafkaProxyTests"
        ),
        .testTarget(
            name: "KafkaPcapTests",
            dependencies: ["KafkaPcap", "KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaPcapTests",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "KafkaReplayTests",
            dependencies: [
                "KafkaReplay", "KafkaCapture", "KafkaProtocol", "KafkaProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/KafkaReplayTests",
            exclude: ["clients"]
        ),
        // The HTML report in a real browser: headless Chromium loads the pages `kafkatape report` and
        // `diff --html` write, and the tests read the DOM it rendered.
        .testTarget(
            name: "KafkaReportTests",
            dependencies: ["KafkaReport", "KafkaReplay", "KafkaCheck", "KafkaCapture", "KafkaProtocol", "KafkaTapeTestSupport"],
            path: "Tests/KafkaReportTests"
        ),
        .testTarget(
            name: "KafkaCheckTests",
            dependencies: ["KafkaCheck", "KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaCheckTests"
        ),
        // What every test target shares: processes (the kafkatape binary, Tansu, SeaweedFS, moto, Go and
        // Python clients), loopback sockets, temporary paths.
        .target(
            name: "KafkaTapeTestSupport",
            dependencies: ["KafkaCapture", "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "KafkaTapeTestingTests",
            dependencies: ["KafkaTapeTesting", "KafkaTape", "KafkaTapeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaTapeTestingTests"
        ),
        // End to end: the kafkatape binary, a real Tansu broker and real clients (kafka-python, librdkafka).
        .testTarget(
            name: "KafkaTapeEndToEndTests",
            dependencies: ["KafkaCapture", "KafkaProtocol", "KafkaTapeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaTapeEndToEndTests",
            exclude: ["clients"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
