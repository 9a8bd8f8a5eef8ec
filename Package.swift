// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-vmalloc",
    products: [
        .library(name: "Vmalloc", targets: ["Vmalloc"]),
        .executable(name: "vmalloc-bench", targets: ["vmalloc-bench"]),
        // The C surface: libvmalloc.so under the kernel's header names (Sources/CVmallocKernel/kernel),
        // and the module harness (main, module_param parsing) that kernel-style modules link.
        .library(name: "vmalloc", type: .dynamic, targets: ["VmallocC"]),
        .library(name: "vmalloc-module", type: .static, targets: ["CVmallocModule"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CNuma",
            path: "Sources/CNuma",
            pkgConfig: "numa",
            providers: [.apt(["libnuma-dev"])]
        ),
        .systemLibrary(
            name: "CURCU",
            path: "Sources/CURCU",
            pkgConfig: "liburcu-bp",
            providers: [.apt(["liburcu-dev"])]
        ),
        .target(
            name: "CShim",
            dependencies: ["CURCU"],
            path: "CShim",
            // Named here, not only through CURCU's pkg-config lookup: where that lookup fails
            // (pkg-config not installed yet), every program that links the shim still links.
            linkerSettings: [.linkedLibrary("numa"), .linkedLibrary("urcu-bp"), .linkedLibrary("urcu-common")]
        ),
        .target(
            name: "Vmalloc",
            dependencies: [
                "CShim", "CNuma",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            // Span-vending owners (VmallocBuffer, VmallocArray) need @_lifetime. An experimental
            // feature setting, not a raw compiler flag: SwiftPM still accepts the package by version.
            swiftSettings: [.enableExperimentalFeature("Lifetimes")]
        ),
        // The C surface, in two halves: the kernel-spelled functions in C (they capture the
        // caller's return address and take variadic arguments, which Swift cannot), over a
        // compact ABI (include/vmalloc_abi.h) that VmallocC implements in Swift with `@c`.
        .target(
            name: "CVmallocKernel",
            dependencies: ["CShim"],
            exclude: ["kernel"],
            cSettings: [.headerSearchPath("kernel")]
        ),
        .target(name: "VmallocC", dependencies: ["Vmalloc", "CVmallocKernel", "CShim"]),
        // The module harness: `main`, module parameters as modprobe takes them, init and exit.
        .target(
            name: "CVmallocModule",
            cSettings: [.headerSearchPath("../CVmallocKernel/kernel")]
        ),
        // What tests and the bench share: the stress driver, the frame audit, a frame-cache
        // shrinker, a seeded RNG, counters (the kernel keeps lib/test_vmalloc.c outside mm/ too).
        .target(
            name: "VmallocTestSupport",
            dependencies: [
                "Vmalloc", "CShim", "CVmallocTestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CVmallocTestSupport", linkerSettings: [.linkedLibrary("numa")]),
        // Kernel-style C the tests call to cross-check the C surface against the Swift API.
        .target(
            name: "CVmallocCTestSupport",
            dependencies: ["VmallocC"],
            cSettings: [.headerSearchPath("../CVmallocKernel/kernel")]
        ),
        // The bench's C helpers: the ptrace syscall census, mremap, a memfd for the mmap peer.
        .target(name: "CVmallocBench"),
        .executableTarget(
            name: "vmalloc-bench",
            dependencies: [
                "Vmalloc", "VmallocTestSupport", "CShim", "CNuma", "CURCU", "CVmallocBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "VmallocTests",
            dependencies: [
                "Vmalloc", "VmallocTestSupport", "CVmallocTestSupport", "CShim", "CNuma", "VmallocC",
                "CVmallocCTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
