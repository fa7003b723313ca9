// swift-tools-version:6.0
//
// PayTrack: an LND-compatible payment node. The layering (docs/ARCHITECTURE.md):
//
//   executables (paytrackd, paytrack)  ->  Node  ->  Services  ->  GRPC  ->  Transport
//   domain: Payments, PaymentStore, Routing, Simnet, Invoices, BOLT11, Macaroons
//   wire:   LightningRPC -> ProtoWire
//   thin wrappers over C: Crypto (OpenSSL, secp256k1), SQLite, PostgreSQL (libpq), Transport (nghttp2, llhttp, wslay, OpenSSL)
//   C shims: CNghttp2, COpenSSL, CSecp256k1, CSQLite, CLibpq, CLlhttp, CWslay
//
// The domain targets never import Transport or GRPC, and only the thin wrapper targets import C.
import PackageDescription

/// Release builds of the per-call hot path (Transport, GRPC, the macaroon check and the router
/// service) skip Swift's dynamic exclusivity checks: measured at about 7% of the instructions of a
/// TrackPaymentV2 call (Benchmarks/transport/callgrind). Debug builds, and so every test run, keep
/// them, so an exclusivity violation still traps in tests.
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "PayTrack",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "paytrackd", targets: ["paytrackd"]),
        .executable(name: "paytrack", targets: ["paytrack"]),
        .library(name: "ProtoWire", targets: ["ProtoWire"]),
        .library(name: "LightningRPC", targets: ["LightningRPC", "JSON"]),
        .library(name: "Crypto", targets: ["Crypto"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "GRPC", targets: ["GRPC", "RPCCore"]),
        .library(name: "Payments", targets: ["Payments", "PaymentStore"]),
        .library(name: "Invoices", targets: ["Invoices", "BOLT11"]),
        .library(name: "Macaroons", targets: ["Macaroons"]),
        .library(name: "Routing", targets: ["Routing", "Simnet"]),
        .library(name: "SQLite", targets: ["SQLite"]),
        .library(name: "PostgreSQL", targets: ["PostgreSQL"]),
        .library(name: "Node", targets: ["Node", "Services"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "KomodoRPC", targets: ["KomodoRPC"]),
    ],
    targets: [
        // MARK: C system libraries (module maps only)
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2",
                       providers: [.apt(["libnghttp2-dev"]), .brew(["nghttp2"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1",
                       providers: [.apt(["libsecp256k1-dev"]), .brew(["secp256k1"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // llhttp: Debian ships only its C sources (node-llhttp); Scripts/bootstrap compiles them into
        // /usr/local (libllhttp.a, llhttp.h, llhttp.pc). See docs/ARCHITECTURE.md.
        .systemLibrary(name: "CLlhttp", pkgConfig: "llhttp", providers: [.apt(["node-llhttp"])]),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        // WebSocket framing (wslay_frame_recv/send). Debian ships no .pc file for wslay; the module map links it by name.
        .systemLibrary(name: "CWslay", providers: [.apt(["libwslay-dev"]), .brew(["wslay"])]),

        // MARK: Wire format
        .target(name: "ProtoWire"),
        .target(name: "JSON"),
        // The one option parser: command lines (paytrackd, paytrack) and LND-style INI config files.
        .target(name: "Options"),
        // Counters, gauges, histograms and the Prometheus text exposition (no dependencies).
        .target(name: "Metrics", dependencies: ["Locks"]),
        .target(name: "LightningRPC", dependencies: ["LightningPrimitives", "ProtoWire", "JSON"]),

        // MARK: Thin wrappers over C
        .target(name: "Crypto", dependencies: ["COpenSSL", "CSecp256k1", "LightningPrimitives"]),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "PostgreSQL", dependencies: ["CLibpq", "Locks"]),
        // The one bounded cache (FIFOCache) and the one lock family (Lock, LockedValue, Condition, Latch).
        .target(name: "Caches"),
        .target(name: "Locks"),
        .target(name: "Transport", dependencies: ["LightningPrimitives", "Locks", "CNghttp2", "COpenSSL", "CLlhttp", "CWslay", "Metrics"],
                swiftSettings: hotPathSettings),

        // MARK: The call interface every face adapts to (handlers, contexts, writers, statuses)
        .target(name: "RPCCore", dependencies: ["LightningPrimitives", "Transport", "Metrics"], swiftSettings: hotPathSettings),

        // MARK: LND's REST gateway and WebSocket proxy over Transport's HTTP face
        .target(name: "RESTGateway", dependencies: ["RPCCore", "Transport", "LightningRPC", "LightningPrimitives", "ProtoWire", "JSON", "Metrics"]),

        // MARK: The live dashboard page (Sources/Dashboard/web compiled in by Scripts/gen-dashboard)
        .target(name: "Dashboard", dependencies: ["RESTGateway", "Transport"], exclude: ["web"]),

        // MARK: gRPC over Transport
        .target(name: "GRPC", dependencies: ["LightningPrimitives", "Locks", "RPCCore", "Transport", "ProtoWire", "Metrics"], swiftSettings: hotPathSettings),

        // MARK: Domain
        // Dependency-free facts shared by the domain targets: BOLT 4 failure codes, the hex codec.
        .target(name: "LightningPrimitives"),
        .target(name: "Payments", dependencies: ["Caches", "Locks", "LightningPrimitives"]),
        .target(name: "PaymentStore", dependencies: ["Locks", "LightningPrimitives", "Payments", "SQLite", "PostgreSQL"]),
        .target(name: "BOLT11", dependencies: ["Crypto"]),
        .target(name: "Invoices", dependencies: ["Locks", "BOLT11", "Crypto", "SQLite", "PostgreSQL", "LightningPrimitives"]),
        .target(name: "Macaroons", dependencies: ["Locks", "Crypto", "ProtoWire", "LightningPrimitives", "PostgreSQL"]),
        .target(name: "Routing", dependencies: ["Locks", "LightningPrimitives"]),
        .target(name: "Simnet", dependencies: ["Locks", "Routing", "Crypto", "PostgreSQL"]),
        .target(name: "PaymentLifecycle", dependencies: ["Locks", "Payments", "Routing", "Simnet", "SQLite", "PostgreSQL"]),
        // The Komodo DeFi Framework's mmrpc 2.0 `lightning::payments::*` API over the same engine.
        .target(name: "KomodoRPC", dependencies: ["Locks", 
            "JSON", "BOLT11", "Crypto", "Invoices", "Payments", "PaymentLifecycle", "Routing", "SQLite", "LightningPrimitives", "Metrics", "PostgreSQL",
        ]),

        // MARK: Services and composition
        .target(name: "Services", dependencies: ["Caches", "Locks", 
            "RPCCore", "Transport", "LightningRPC", "ProtoWire", "Payments", "Invoices", "BOLT11", "Macaroons",
            "Routing", "Simnet", "Crypto", "PaymentLifecycle", "Metrics",
        ]),
        // Where a node's files are and the defaults its clients share (the CLI links this, not Node).
        .target(name: "NodeLayout"),
        .target(name: "Node", dependencies: ["Locks", 
            "NodeLayout", "Services", "RPCCore", "GRPC", "RESTGateway", "Dashboard", "Transport", "Payments", "PaymentStore", "Invoices", "Macaroons",
            "Routing", "Simnet", "Crypto", "LightningRPC", "PaymentLifecycle", "BOLT11", "KomodoRPC",
            "Options", "Metrics",
        ]),
        .executableTarget(name: "paytrackd", dependencies: ["Node"]),
        .executableTarget(name: "paytrack", dependencies: ["LightningPrimitives", "Locks", "NodeLayout", "RPCCore", "GRPC", "LightningRPC", "JSON", "ProtoWire", "Crypto", "Macaroons", "Options"]),
        // Test/bench-only gRPC server (transport interop tests, Benchmarks/transport). Not a product.
        .executableTarget(name: "GRPCTestServer", dependencies: ["Locks", "RPCCore", "GRPC", "Transport", "ProtoWire"],
                          path: "Tests/Support/GRPCTestServer", exclude: ["test_service.proto", "test_service.pb"]),
        // Test-only HTTP/1.1 + WebSocket server over Transport's HTTP listener (Tests/Interop/test_transport_http1.py).
        .executableTarget(name: "HTTPTestServer", dependencies: ["Transport"], path: "Tests/Support/HTTPTestServer"),
        // Test-only: a private PostgreSQL cluster (initdb + pg_ctl in a temp dir) for the tests that need one.
        .target(name: "PostgresTestSupport", dependencies: ["Locks"], path: "Tests/Support/PostgresTestSupport"),
        // Benchmark only (Benchmarks/pg/run): durable payments/s on PostgreSQL beside SQLite. Not a product.
        .executableTarget(name: "PGBench", dependencies: ["Locks", "Payments", "PaymentStore", "PostgresTestSupport"],
                          path: "Benchmarks/pg/PGBench"),

        // MARK: Tests (mirror the targets; interop tests live in Tests/Interop, run by Scripts/test)
        .testTarget(name: "ProtoWireTests", dependencies: ["ProtoWire"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "OptionsTests", dependencies: ["Options"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "NodeTests", dependencies: ["Node", "Options", "Metrics"]),
        .testTarget(name: "LightningRPCTests", dependencies: ["LightningRPC", "ProtoWire", "JSON"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "TransportTests", dependencies: ["Locks", "Transport", "CNghttp2", "COpenSSL"]),
        .testTarget(name: "RPCCoreTests", dependencies: ["RPCCore"]),
        .testTarget(name: "RESTGatewayTests", dependencies: ["RESTGateway", "RPCCore", "Transport", "LightningRPC", "JSON", "LightningPrimitives", "Metrics"],
                    exclude: ["Fixtures"]),  // read by path (#filePath), not as a bundle resource
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "RESTGateway", "Transport"]),
        .testTarget(name: "GRPCTests", dependencies: ["Locks", "GRPC", "RPCCore", "Transport", "Metrics"]),
        .testTarget(name: "LightningPrimitivesTests", dependencies: ["LightningPrimitives"]),
        .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL", "PostgresTestSupport"]),
        .testTarget(name: "LocksTests", dependencies: ["Locks"]),
        .testTarget(name: "CachesTests", dependencies: ["Caches"]),
        .testTarget(name: "PaymentsTests", dependencies: ["Locks", "LightningPrimitives", "Payments", "PaymentStore", "SQLite", "PostgreSQL", "PostgresTestSupport"]),
        .testTarget(name: "BOLT11Tests", dependencies: ["BOLT11", "Crypto"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InvoicesTests", dependencies: ["Locks", "Invoices", "BOLT11", "Crypto", "PostgresTestSupport"]),
        .testTarget(name: "MacaroonsTests", dependencies: ["Macaroons", "Crypto", "PostgreSQL", "PostgresTestSupport"]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing"]),
        .testTarget(name: "SimnetTests", dependencies: ["Locks", "Simnet", "Routing", "Crypto", "PostgreSQL", "PostgresTestSupport"]),
        .testTarget(name: "PaymentLifecycleTests", dependencies: ["Locks", "PaymentLifecycle", "Payments", "PaymentStore", "Routing", "Simnet", "PostgresTestSupport", "Crypto"]),
        .testTarget(name: "ServicesTests", dependencies: ["Services", "RPCCore", "Node", "NodeLayout", "LightningRPC", "Payments", "PaymentStore", "BOLT11", "Crypto", "Routing", "PaymentLifecycle", "Simnet", "GRPC", "Macaroons", "Metrics", "Invoices"]),
        .testTarget(name: "KomodoRPCTests", dependencies: ["KomodoRPC", "Node", "NodeLayout", "JSON", "BOLT11", "Crypto", "Invoices", "Payments", "Simnet", "Routing", "PostgresTestSupport"]),
    ]
)
