// swift-tools-version:6.1
// An example of KafkaTape as a library: a package that depends on it by path and tests with
// KafkaTapeTesting. `tools/test` builds and runs it.
import PackageDescription

let package = Package(
    name: "KafkaTapeExample",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Dependencies/kafkatape is a symbolic link to the repository's root: a path dependency is known
        // by its folder's name, and the clone's own folder can be called anything.
        .package(path: "Dependencies/kafkatape"),
    ],
    targets: [
        .testTarget(
            name: "KafkaTapeExampleTests",
            dependencies: [
                .product(name: "KafkaTape", package: "kafkatape"),
                .product(name: "KafkaTapeTesting", package: "kafkatape"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
