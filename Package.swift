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
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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
        // The capture file format: writer, reader, recovery of torn tails, rotation, and the capture sinks
        // (`ProxyCaptureSink`, `FileCaptureSink`) that both the proxy and replay write through.
        .target(
            name: "KafkaCapture",
            dependencies: [
                "KafkaProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/KafkaCapture"
        ),
        // Broker addresses: `HostPort`, `NodeAddressMap` and the `AddressRewriter` over the generated
        // endpoint carriers. The proxy rewrites them and replay/serve read them, so they live below both
        // (KafkaReplay must not depend on KafkaProxy); not in KafkaCapture, since addressing is not
        // about the capture file, and one module per capability reads more plainly than a grab bag.
        .target(
            name: "KafkaEndpoints",
            dependencies: ["KafkaProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/KafkaEndpoints"
        ),
        // The NIO proxy: forwarding with backpressure, correlation tracking, address rewriting, capture tap.
        .target(
            name: "KafkaProxy",
            dependencies: [
                "KafkaProtocol",
                "KafkaCapture",
                "KafkaEndpoints",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                // Metrics go to a swift-metrics factory the caller passes in (never the global one);
                // MetricsServer serves a swift-prometheus registry.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
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
        // Not KafkaProxy: what both need (sinks, addresses) is in KafkaCapture and KafkaEndpoints.
        .target(
            name: "KafkaReplay",
            dependencies: [
                "KafkaCapture", "KafkaEndpoints", "KafkaProtocol",
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
                "KafkaProtocol", "KafkaCapture", "KafkaEndpoints", "KafkaProxy", "KafkaReplay", "KafkaCheck", "KafkaReport",
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
        // The generator: Kafka JSON message specs -> Sources/KafkaProtocol/Generated. The spec parser and the
        // emitter are a library so that KafkaProtocolGenTests can call them; the executable parses arguments.
        .target(name: "KafkaProtocolGenCore", path: "Sources/KafkaProtocolGenCore"),
        .executableTarget(name: "KafkaProtocolGen", dependencies: ["KafkaProtocolGenCore"], path: "Sources/KafkaProtocolGen"),
        .executableTarget(
            name: "KafkaTapeCLI",
            dependencies: [
                "KafkaProtocol",
                "KafkaCapture",
                "KafkaEndpoints",
                "KafkaProxy",
                "KafkaPcap",
                "KafkaReplay",
                "KafkaCheck",
                "KafkaReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // record, serve and sniff run in a ServiceGroup: SIGINT/SIGTERM are a graceful shutdown.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
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
            name: "KafkaProtocolGenTests",
            dependencies: ["KafkaProtocolGenCore"],
            path: "Tests/KafkaProtocolGenTests"
        ),
        .testTarget(
            name: "KafkaCaptureTests",
            dependencies: ["KafkaCapture", "KafkaProtocol", "KafkaTapeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaCaptureTests"
        ),
        .testTarget(
            name: "KafkaProxyTests",
            dependencies: [
                "KafkaProxy", "KafkaCapture", "KafkaEndpoints", "KafkaProtocol", "KafkaTapeTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/KafkaProxyTests"
        ),
        .testTarget(
            name: "KafkaPcapTests",
            dependencies: ["KafkaPcap", "KafkaCapture", "KafkaProtocol", "KafkaTapeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaPcapTests",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "KafkaReplayTests",
            dependencies: [
                // KafkaProxy only to record the sessions the end-to-end tests replay; KafkaReplay itself
                // does not depend on it.
                "KafkaReplay", "KafkaCapture", "KafkaEndpoints", "KafkaProtocol", "KafkaProxy", "KafkaTapeTestSupport",
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
            dependencies: ["KafkaCheck", "KafkaCapture", "KafkaProtocol", "KafkaTapeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/KafkaCheckTests"
        ),
        // What every test target shares: one process runner (`Harness.run`, `Daemon`), one broker launcher
        // (`TestBroker`: Tansu or SeaweedFS through tools/kafkatape_testkit.py), one scripted fake broker,
        // one raw socket client, one free-port helper, temporary paths.
        .target(
            name: "KafkaTapeTestSupport",
            dependencies: [
                "KafkaCapture", "KafkaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
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
