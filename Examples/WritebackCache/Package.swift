// swift-tools-version: 6.1
// An outside program that depends on swift-vmalloc by version, as a user's package would.
// `Examples/run` points VMALLOC_PACKAGE_URL at a tagged clone of this checkout.
import PackageDescription

let vmallocURL = Context.environment["VMALLOC_PACKAGE_URL"] ?? "https://github.com/swift-vmalloc/swift-vmalloc"

let package = Package(
    name: "WritebackCache",
    dependencies: [.package(url: vmallocURL, from: "0.2.0")],
    targets: [
        .executableTarget(name: "WritebackCache", dependencies: [.product(name: "Vmalloc", package: "swift-vmalloc")])
    ],
    swiftLanguageModes: [.v6]
)
