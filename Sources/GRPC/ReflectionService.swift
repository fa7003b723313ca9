import RPCCore
import ProtoWire

/// gRPC server reflection, `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha`
/// (same wire format): list_services, file_by_filename, file_containing_symbol. Descriptors are
/// serialized `FileDescriptorProto`s handed in at init; answers include the transitive dependencies
/// that are among them. Extension queries answer NOT_FOUND (no extensions are registered).
public final class ReflectionService: Sendable {
    let files: [String: [UInt8]]
    let dependencies: [String: [String]]
    let symbols: [String: String]      // fully-qualified symbol -> file name
    let serviceNames: [String]

    /// - Parameters:
    ///   - descriptors: (file name, serialized FileDescriptorProto) pairs.
    ///   - serviceNames: services to list (typically every service the server routes).
    public init(descriptors: [(name: String, bytes: [UInt8])], serviceNames: [String]) {
        var f: [String: [UInt8]] = [:], d: [String: [String]] = [:], s: [String: String] = [:]
        for (name, bytes) in descriptors {
            f[name] = bytes
            if let info = try? ReflectionService.index(bytes) {
                d[name] = info.deps
                for sym in info.symbols { s[sym] = name }
            }
        }
        files = f; dependencies = d; symbols = s
        self.serviceNames = Array(Set(serviceNames)).sorted()
    }

    /// The two services (v1 and v1alpha) to register with the server.
    public var services: [RPCService] {
        let handler = RPCHandler.bidiStreaming { [self] _, writer in
            BidiRequestHandler(onMessage: { req in writer.send(self.answer(req)) }, onEnd: { writer.finish() })
        }
        return [ServiceDefinition(name: "grpc.reflection.v1.ServerReflection", methods: ["ServerReflectionInfo": handler]),
                ServiceDefinition(name: "grpc.reflection.v1alpha.ServerReflection", methods: ["ServerReflectionInfo": handler])]
    }

    /// Splits a serialized FileDescriptorSet (`protoc --descriptor_set_out`) into named files.
    public static func splitDescriptorSet(_ set: [UInt8]) throws -> [(name: String, bytes: [UInt8])] {
        try set.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            var out: [(String, [UInt8])] = []
            while let tag = try r.nextTag() {
                if tag.number == 1 {
                    let file = try r.readBytes(tag)
                    out.append((try fileName(file), file))
                } else { try r.skip(tag) }
            }
            return out
        }
    }

    static func fileName(_ file: [UInt8]) throws -> String {
        try file.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                if tag.number == 1 { return try r.readString(tag) }
                try r.skip(tag)
            }
            return ""
        }
    }

    /// Symbols defined by a FileDescriptorProto and its dependency names.
    static func index(_ file: [UInt8]) throws -> (deps: [String], symbols: [String]) {
        try file.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            var pkg = "", deps: [String] = []
            var messages: [[UInt8]] = [], enums: [[UInt8]] = [], services: [[UInt8]] = []
            while let tag = try r.nextTag() {
                switch tag.number {
                case 2: pkg = try r.readString(tag)
                case 3: deps.append(try r.readString(tag))
                case 4: messages.append(try r.readBytes(tag))
                case 5: enums.append(try r.readBytes(tag))
                case 6: services.append(try r.readBytes(tag))
                default: try r.skip(tag)
                }
            }
            let prefix = pkg.isEmpty ? "" : pkg + "."
            var syms: [String] = []
            for m in messages { try messageSymbols(m, prefix: prefix, into: &syms, depth: 0) }
            for e in enums { syms.append(prefix + (try nameAndChildren(e, childField: nil).name)) }
            for s in services {
                let (name, methods) = try nameAndChildren(s, childField: 2)
                syms.append(prefix + name)
                for m in methods { syms.append(prefix + name + "." + (try nameAndChildren(m, childField: nil).name)) }
            }
            return (deps, syms)
        }
    }

    private static func messageSymbols(_ m: [UInt8], prefix: String, into syms: inout [String], depth: Int) throws {
        guard depth < 32 else { return }
        var name = "", nested: [[UInt8]] = [], enums: [[UInt8]] = []
        try m.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: name = try r.readString(tag)
                case 3: nested.append(try r.readBytes(tag))
                case 4: enums.append(try r.readBytes(tag))
                default: try r.skip(tag)
                }
            }
        }
        let full = prefix + name
        syms.append(full)
        for n in nested { try messageSymbols(n, prefix: full + ".", into: &syms, depth: depth + 1) }
        for e in enums { syms.append(full + "." + (try nameAndChildren(e, childField: nil).name)) }
    }

    private static func nameAndChildren(_ b: [UInt8], childField: Int?) throws -> (name: String, children: [[UInt8]]) {
        try b.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            var name = "", children: [[UInt8]] = []
            while let tag = try r.nextTag() {
                if tag.number == 1 { name = try r.readString(tag) }
                else if tag.number == childField { children.append(try r.readBytes(tag)) }
                else { try r.skip(tag) }
            }
            return (name, children)
        }
    }

    /// Answers one ServerReflectionRequest.
    func answer(_ request: [UInt8]) -> [UInt8] {
        var host = ""
        var kind = 0
        var arg = ""
        let ok: Bool = (try? request.withUnsafeBytes { buf in
            var r = ProtoReader(buffer: buf)
            while let tag = try r.nextTag() {
                switch tag.number {
                case 1: host = try r.readString(tag)
                case 3, 4, 6, 7: kind = tag.number; arg = try r.readString(tag)
                case 5: kind = 5; try r.skip(tag)
                default: try r.skip(tag)
                }
            }
            return true
        }) ?? false
        var w = ProtoWriter(capacity: 256)
        w.writeString(host, field: 1)
        w.writeBytes(request, field: 2)
        if !ok { writeError(&w, code: 3, "invalid ServerReflectionRequest"); return w.bytes }
        switch kind {
        case 7:
            w.writeNested(field: 6) { l in
                for s in serviceNames { l.writeNested(field: 1) { $0.writeString(s, field: 1) } }
            }
        case 3:
            if files[arg] != nil { writeFiles(&w, root: arg) } else { writeError(&w, code: 5, "file not found: \(arg)") }
        case 4:
            if let f = symbols[arg] { writeFiles(&w, root: f) } else { writeError(&w, code: 5, "symbol not found: \(arg)") }
        case 5, 6:
            writeError(&w, code: 5, "extensions are not supported")
        default:
            writeError(&w, code: 3, "unknown reflection request")
        }
        return w.bytes
    }

    private func writeFiles(_ w: inout ProtoWriter, root: String) {
        var seen: Set<String> = [], order: [String] = []
        var stack = [root]
        while let f = stack.popLast() {
            guard !seen.contains(f), files[f] != nil else { continue }
            seen.insert(f); order.append(f)
            stack.append(contentsOf: dependencies[f] ?? [])
        }
        w.writeNested(field: 4) { r in
            for f in order { r.writeBytes(files[f]!, field: 1, omitDefault: false) }
        }
    }

    private func writeError(_ w: inout ProtoWriter, code: Int32, _ message: String) {
        w.writeNested(field: 7) { e in
            e.writeInt32(code, field: 1)
            e.writeString(message, field: 2)
        }
    }
}
