// swift-tools-version:6.0
// The Komodo API's benchmarks (not built by CI): `Benchmarks/kdf/run`.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "KDFBenchmarks",
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(name: "KDFListBench", dependencies: [.product(name: "KomodoRPC", package: root),
                                                              .product(name: "Payments", package: root),
                                                              .product(name: "Invoices", package: root),
                                                              .product(name: "Routing", package: root),
                                                              .product(name: "LightningRPC", package: root)]),
    ]
)
