// swift-tools-version: 6.1
// The libFuzzer target over the public API (as swift-protobuf's FuzzTesting package). The
// sanitizer flags go on the command line (`make fuzz`), never in a manifest:
//   swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "FuzzVmalloc",
    dependencies: [
        .package(name: "swift-vmalloc", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CFuzzer", path: "Sources/CFuzzer"),
        .executableTarget(
            name: "FuzzVmalloc",
            dependencies: [
                "CFuzzer",
                .product(name: "Vmalloc", package: "swift-vmalloc"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
