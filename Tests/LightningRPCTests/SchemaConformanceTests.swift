import Foundation
import JSON
import LightningRPC
import ProtoWire
import XCTest

/// Protos/ must be wire-identical to LND for everything in Fixtures/lnd-schema.json and
/// Fixtures/lnd-schema-more.json (hold invoices, routes, graph, mission control, HTLC events, and
/// under `legacy` the payment calls LND v0.21.0 removed, as LND v0.20.3 declared them): this compiles
/// Protos/ with the reference protoc, decodes the FileDescriptorSet with our own ProtoWire and
/// compares every message, field, enum and method with the union of the fixtures (a `legacy`
/// message replaces the current one of the same name: routerrpc.SendPaymentRequest keeps field 8).
final class SchemaConformanceTests: XCTestCase {
    var set = Descriptor.FileSet()
    var schema = JSONValue.null

    override func setUpWithError() throws {
        set = try Descriptor.FileSet(serializedBytes: try TestSupport.descriptorSet())
        let base = try JSONParser().parse(Array(try TestSupport.fixture("lnd-schema.json")))
        let more = try JSONParser().parse(Array(try TestSupport.fixture("lnd-schema-more.json")))
        schema = Self.merge([base, more, more["legacy"] ?? .null])
    }

    /// The union of schema files: `messages` and `enums` by name (a later file wins), `methods`
    /// concatenated.
    static func merge(_ schemas: [JSONValue]) -> JSONValue {
        var messages: [String: JSONValue] = [:], enums: [String: JSONValue] = [:]
        var methods: [JSONValue] = []
        for s in schemas {
            if case .object(let ms)? = s["messages"] { for m in ms { messages[m.key] = m.value } }
            if case .object(let es)? = s["enums"] { for e in es { enums[e.key] = e.value } }
            if case .array(let ps)? = s["methods"] { methods += ps }
        }
        func object(_ d: [String: JSONValue]) -> JSONValue {
            .object(d.keys.sorted().map { JSONMember($0, d[$0]!) })
        }
        return .object([JSONMember("messages", object(messages)), JSONMember("enums", object(enums)),
                        JSONMember("methods", .array(methods))])
    }

    /// The merge really took the legacy message: LND v0.20.3's outgoing_chan_id (8) is declared.
    func testLegacySendPaymentRequestDeclaresField8() {
        let (messages, _) = index()
        let field = messages["routerrpc.SendPaymentRequest"]?.fields.first { $0.number == 8 }
        XCTAssertEqual(field?.name, "outgoing_chan_id")
        XCTAssertEqual(field?.deprecated, true)
        guard case .array(let methods)? = schema["methods"] else { return XCTFail("no methods") }
        XCTAssertEqual(methods.count, 15 + 18 + 7)
    }

    /// PayTrack's own extension package (Protos/paytrackrpc): not LND's, so not in the LND schema.
    static let extensionPackages: Set<String> = ["paytrackrpc"]

    /// Flattens LND's part of the set into full name → (message, package) and full name → enum.
    func index() -> (messages: [String: Descriptor.Message], enums: [String: Descriptor.Enum]) {
        var messages: [String: Descriptor.Message] = [:]
        var enums: [String: Descriptor.Enum] = [:]
        func walk(_ prefix: String, _ ms: [Descriptor.Message], _ es: [Descriptor.Enum]) {
            for e in es { enums[prefix + e.name] = e }
            for m in ms {
                messages[prefix + m.name] = m
                walk(prefix + m.name + ".", m.nested, m.enums)
            }
        }
        for f in set.files where !Self.extensionPackages.contains(f.package) { walk(f.package + ".", f.messages, f.enums) }
        return (messages, enums)
    }

    func testFilesAndPackages() {
        XCTAssertEqual(set.files.map(\.name), ["lightning.proto", "routerrpc/router.proto", "invoicesrpc/invoices.proto", "paytrackrpc/simnet.proto"])
        XCTAssertEqual(set.files.map(\.package), ["lnrpc", "routerrpc", "invoicesrpc", "paytrackrpc"])
        XCTAssertEqual(set.files[1].dependencies, ["lightning.proto"])
        XCTAssertEqual(set.files[2].dependencies, ["lightning.proto"])
        XCTAssertEqual(set.files[3].dependencies, [], "the extension stands alone")
    }

    func testEveryMessageAndFieldMatchesTheSchema() throws {
        let (messages, _) = index()
        guard case .object(let expected)? = schema["messages"] else { return XCTFail("schema has no messages") }
        XCTAssertEqual(Set(messages.keys), Set(expected.map(\.key)), "message set differs")
        for entry in expected {
            let name = entry.key
            guard let m = messages[name] else { XCTFail("missing message \(name)"); continue }
            XCTAssertEqual(entry.value["map_entry"], .bool(m.mapEntry), "\(name).map_entry")
            let reserved = JSONValue.array(m.reserved.map { .array($0.map { .integer($0) }) })
            XCTAssertEqual(entry.value["reserved"], reserved, "\(name).reserved")
            guard case .array(let fields)? = entry.value["fields"] else { XCTFail("\(name) has no fields"); continue }
            XCTAssertEqual(m.fields.map(\.name), fields.compactMap { $0["name"]?.string }, "\(name): field list/order")
            for f in fields {
                guard let fname = f["name"]?.string, let got = m.fields.first(where: { $0.name == fname }) else {
                    XCTFail("\(name): missing field \(f["name"] ?? .null)"); continue
                }
                let at = "\(name).\(fname)"
                XCTAssertEqual(f["number"]?.int64, Int64(got.number), "\(at) number")
                XCTAssertEqual(f["type"]?.string, Descriptor.Field.typeNames[got.type], "\(at) type")
                XCTAssertEqual(f["label"]?.string, Descriptor.Field.labelNames[got.label], "\(at) label")
                XCTAssertEqual(f["type_name"]?.string, String(got.typeName.drop(while: { $0 == "." })), "\(at) type_name")
                XCTAssertEqual(f["json_name"]?.string, got.jsonName, "\(at) json_name")
                XCTAssertEqual(f["deprecated"], .bool(got.deprecated), "\(at) deprecated")
                XCTAssertEqual(f["proto3_optional"], .bool(got.proto3Optional), "\(at) proto3_optional")
                let oneof: JSONValue = got.oneofIndex.map { .string(m.oneofs[Int($0)]) } ?? .null
                XCTAssertEqual(f["oneof"], oneof, "\(at) oneof")
            }
        }
    }

    func testEveryEnumMatchesTheSchema() {
        let (_, enums) = index()
        guard case .object(let expected)? = schema["enums"] else { return XCTFail("schema has no enums") }
        XCTAssertEqual(Set(enums.keys), Set(expected.map(\.key)), "enum set differs")
        for entry in expected {
            guard let e = enums[entry.key], case .object(let values) = entry.value else {
                XCTFail("missing enum \(entry.key)"); continue
            }
            XCTAssertEqual(e.values.map(\.name), values.map(\.key), "\(entry.key) value names/order")
            XCTAssertEqual(e.values.map { Int64($0.number) }, values.map { $0.value.int64 ?? -1 }, "\(entry.key) numbers")
        }
    }

    func testServicesHaveExactlyTheSchemaMethods() {
        guard case .array(let methods)? = schema["methods"] else { return XCTFail("schema has no methods") }
        var got: [String: JSONValue] = [:]
        for f in set.files where !Self.extensionPackages.contains(f.package) {
            for s in f.services {
                for m in s.methods {
                    got["/\(f.package).\(s.name)/\(m.name)"] = .object([
                        JSONMember("input", .string(String(m.inputType.dropFirst()))),
                        JSONMember("output", .string(String(m.outputType.dropFirst()))),
                        JSONMember("server_streaming", .bool(m.serverStreaming)),
                        JSONMember("client_streaming", .bool(m.clientStreaming)),
                    ])
                }
            }
        }
        XCTAssertEqual(Set(got.keys), Set(methods.compactMap { $0["path"]?.string }))
        for m in methods {
            guard let path = m["path"]?.string, let g = got[path] else { continue }
            for key in ["input", "output", "server_streaming", "client_streaming"] {
                XCTAssertEqual(g[key], m[key], "\(path) \(key)")
            }
        }
        XCTAssertEqual(Set(set.files.flatMap { f in f.services.map { "\(f.package).\($0.name)" } }),
                       ["lnrpc.Lightning", "routerrpc.Router", "invoicesrpc.Invoices", "paytrackrpc.Simnet"])
    }

    /// LND marks channel ids `jstype = JS_STRING` (spec §2); it changes nothing on the wire but
    /// is part of the descriptor clients see through reflection.
    func testJSStringChannelIDs() {
        let (messages, _) = index()
        let jsString: Int32 = 1
        for (message, field) in [("lnrpc.Hop", "chan_id"), ("lnrpc.ChannelUpdate", "chan_id"), ("lnrpc.HopHint", "chan_id"),
                                 ("lnrpc.Channel", "chan_id"), ("lnrpc.ChannelEdge", "channel_id"),
                                 ("lnrpc.ChanInfoRequest", "chan_id"), ("lnrpc.SendRequest", "outgoing_chan_id"),
                                 ("routerrpc.BuildRouteRequest", "outgoing_chan_id"),
                                 ("routerrpc.SendPaymentRequest", "outgoing_chan_id")] {
            XCTAssertEqual(messages[message]?.fields.first { $0.name == field }?.jstype, jsString, "\(message).\(field)")
        }
    }

    /// The reflection descriptors compiled into LightningRPC are exactly what protoc produces now.
    func testEmbeddedDescriptorsAreProtocs() {
        XCTAssertEqual(LightningDescriptors.files.map(\.name), set.files.map(\.name))
        XCTAssertTrue(LightningDescriptors.files.map(\.bytes) == set.rawFiles,
                      "embedded descriptors differ from protoc's: run Scripts/gen-lightningrpc")
        XCTAssertEqual(LightningDescriptors.serviceNames, ["lnrpc.Lightning", "routerrpc.Router", "invoicesrpc.Invoices", "paytrackrpc.Simnet"])
        XCTAssertEqual(LightningDescriptors.methods.count, 15 + 18 + 7 + 1)
        XCTAssertEqual(LightningDescriptors.methods.first { $0.path == "/paytrackrpc.Simnet/DescribeNetwork" },
                       MethodDescriptor(path: "/paytrackrpc.Simnet/DescribeNetwork", inputType: "paytrackrpc.DescribeNetworkRequest",
                                        outputType: "paytrackrpc.NetworkDescription", clientStreaming: false, serverStreaming: false))
        XCTAssertEqual(LightningDescriptors.methods.first { $0.path == "/routerrpc.Router/TrackPaymentV2" },
                       MethodDescriptor(path: "/routerrpc.Router/TrackPaymentV2", inputType: "routerrpc.TrackPaymentRequest",
                                        outputType: "lnrpc.Payment", clientStreaming: false, serverStreaming: true))
    }

    /// Sources/LightningRPC/Generated must be what Scripts/gen-lightningrpc makes of Protos/ today.
    func testGeneratedCodeIsNotStale() throws {
        let fm = FileManager.default
        let tmp = fm.temporaryDirectory.appendingPathComponent("paytrack-gen-\(UUID().uuidString)")
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: tmp) }
        try TestSupport.run("bash", ["Scripts/gen-lightningrpc", "--out", tmp.path])
        let committed = TestSupport.root.appendingPathComponent("Sources/LightningRPC/Generated")
        let fresh = try fm.contentsOfDirectory(atPath: tmp.path).sorted()
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: committed.path).sorted(), fresh, "file list differs: run Scripts/gen-lightningrpc")
        for name in fresh {
            let a = try Data(contentsOf: tmp.appendingPathComponent(name))
            let b = try Data(contentsOf: committed.appendingPathComponent(name))
            XCTAssertEqual(a, b, "\(name) is stale: run Scripts/gen-lightningrpc")
        }
    }
}
