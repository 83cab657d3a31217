// swift-tools-version:6.1
// An example of KafkaTape as a library: a package that depends on it by path and tests with
// KafkaTapeTesting. `tools/test` builds and runs it.
import PackageDescription

let package = Package(
    name: "KafkaTapeExample",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        .testTarget(
            name: "KafkaTapeExampleTests",
            dependencies: [
                .product(name: "KafkaTape", package: "main"),
                .product(name: "KafkaTapeTesting", package: "main"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
