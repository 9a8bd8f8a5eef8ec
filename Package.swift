// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-vmalloc",
    products: [
        .library(name: "Vmalloc", targets: ["Vmalloc"]),
        .executable(name: "vmalloc-bench", targets: ["vmalloc-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CNuma",
            path: "Sources/CNuma",
            pkgConfig: "numa",
            providers: [.apt(["libnuma-dev"])]
        ),
        .target(
            name: "CShim",
            path: "CShim",
            linkerSettings: [.linkedLibrary("numa")]
        ),
        .target(
            name: "Vmalloc",
            dependencies: [
                "CShim", "CNuma",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "vmalloc-bench",
            dependencies: [
                "Vmalloc", "CShim", "CNuma",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "VmallocTests",
            dependencies: [
                "Vmalloc", "CShim", "CNuma",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
