// swift-tools-version:6.0
// PayTrack benchmarks: not built by CI. Run everything with `Benchmarks/run`.
// CodecBench compares our codec with swift-protobuf code generated from the same Protos/
// (that generated code lives only here, never in the product).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so a clone in any folder works only if the
/// products are looked up under that folder's name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "PayTrackBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        .executableTarget(name: "CodecBench", dependencies: [
            .product(name: "LightningRPC", package: root),
            .product(name: "ProtoWire", package: root),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .executableTarget(name: "StoreBench", dependencies: [
            .product(name: "Payments", package: root),
        ]),
        .executableTarget(name: "Bolt11Bench", dependencies: [
            .product(name: "Invoices", package: root),
            .product(name: "Crypto", package: root),
        ]),
        .executableTarget(name: "RoutingBench", dependencies: [
            .product(name: "Routing", package: root),
            .product(name: "Crypto", package: root),
        ]),
        .executableTarget(name: "StreamsBench", dependencies: [
            .product(name: "GRPC", package: root),
            .product(name: "Transport", package: root),
            .product(name: "LightningRPC", package: root),
            .product(name: "ProtoWire", package: root),
        ]),
    ]
)
