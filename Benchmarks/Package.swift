// swift-tools-version:6.0
// PayTrack benchmarks: not built by CI. Run everything with `Benchmarks/run`.
// CodecBench compares our codec with swift-protobuf code generated from the same Protos/
// (that generated code lives only here, never in the product).
import PackageDescription

let package = Package(
    name: "PayTrackBenchmarks",
    dependencies: [
        .package(name: "PayTrack", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        .executableTarget(name: "CodecBench", dependencies: [
            .product(name: "LightningRPC", package: "PayTrack"),
            .product(name: "ProtoWire", package: "PayTrack"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .executableTarget(name: "StoreBench", dependencies: [
            .product(name: "Payments", package: "PayTrack"),
        ]),
        .executableTarget(name: "Bolt11Bench", dependencies: [
            .product(name: "Invoices", package: "PayTrack"),
            .product(name: "Crypto", package: "PayTrack"),
        ]),
        .executableTarget(name: "RoutingBench", dependencies: [
            .product(name: "Routing", package: "PayTrack"),
        ]),
        .executableTarget(name: "StreamsBench", dependencies: [
            .product(name: "GRPC", package: "PayTrack"),
            .product(name: "Transport", package: "PayTrack"),
            .product(name: "LightningRPC", package: "PayTrack"),
            .product(name: "ProtoWire", package: "PayTrack"),
        ]),
    ]
)
