import Foundation

/// `call`: grpcurl-style generic invocation of any unary or server-streaming method by path,
/// with the request given as gateway JSON (proto or lowerCamelCase names, int64 as string or
/// number, bytes as base64).
enum CallCommand {
    static let call = Command(
        "call", arguments: "/pkg.Service/Method ['{json}' | @FILE | -]",
        summary: "Invoke any RPC by its path with a JSON request (like grpcurl).",
        details: "The request is LND REST-gateway JSON for the method's request message ({} when omitted;\n@FILE reads it from a file, - from stdin). Responses print as gateway JSON; a stream prints\none object per message. --list shows every method with its request and response types.",
        flags: [
            Flag("list", help: "list the methods call knows, with request and response types"),
            Flag("describe", help: "print the method's request message with every field at its zero value (a JSON skeleton to fill in)"),
            Flag("count", value: "N", help: "streams: exit after N messages"),
            Flag("header", aliases: ["H"], value: "KEY: VALUE", help: "extra request metadata; repeatable", repeatable: true),
        ]) { inv in
        if inv.flags.bool("list") {
            try inv.expectAtMost(0)
            for m in MethodTable.methods {
                let kind = m.descriptor.serverStreaming ? "stream " : ""
                Output.printLine("\(m.descriptor.path) (\(m.request.name)) returns (\(kind)\(m.response.name))")
            }
            return
        }
        try inv.expectAtMost(2)
        let method = try MethodTable.lookup(try inv.argument(0, "method"))
        if inv.flags.bool("describe") {
            try inv.expectAtMost(1)
            Output.printJSON(method.request.template())
            return
        }
        let json = try requestText(inv.positionals.count > 1 ? inv.positionals[1] : "{}")
        let request = try method.request.encodeJSON(json)
        var count: Int?
        if let c = try inv.flags.uint32("count") {
            guard c > 0 else { throw CLIError.usage("--count must be at least 1") }
            count = Int(c)
        }
        let connection = try inv.connection()
        for h in inv.flags.strings("header") {
            guard let colon = h.firstIndex(of: ":") else { throw CLIError.usage("invalid --header \"\(h)\": want KEY: VALUE") }
            let key = h[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty, !key.hasSuffix("-bin"), key != "macaroon" || inv.global.noMacaroons else {
                throw CLIError.usage("invalid --header key \"\(key)\"")
            }
            connection.metadata.add(key, h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        if !method.descriptor.serverStreaming {
            let bytes = try connection.unaryBytes(path: method.descriptor.path, request: request)
            Output.printJSON(try method.response.decodeToJSON(bytes), messageName: method.response.name)
            return
        }
        let seen = LockedBox(0)
        let limit = count
        do {
            try connection.serverStreamingBytes(path: method.descriptor.path, request: request) { bytes in
                Output.printJSON(try method.response.decodeToJSON(bytes), messageName: method.response.name)
                seen.value += 1
                if let c = limit, seen.value >= c { throw PaymentStream.StopStream() }
            }
        } catch is PaymentStream.StopStream {}
    }

    /// Largest request text read from stdin or a file (the daemon's own receive limit is 200 MiB;
    /// a JSON request for these methods is a few KiB).
    static let maxRequestBytes = 16 * 1024 * 1024

    /// The request JSON: the argument itself, `@FILE`, or `-` for stdin (at most
    /// `maxRequestBytes`).
    static func requestText(_ arg: String) throws(CLIError) -> String {
        let handle: FileHandle
        let source: String
        if arg == "-" {
            handle = FileHandle.standardInput
            source = "stdin"
        } else if arg.hasPrefix("@") {
            source = String(arg.dropFirst())
            guard let h = FileHandle(forReadingAtPath: source) else { throw .failure("unable to read request file \(source)") }
            handle = h
        } else {
            return arg
        }
        var data = Data()
        while data.count <= maxRequestBytes {
            let chunk = handle.readData(ofLength: 64 * 1024)
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        guard data.count <= maxRequestBytes else { throw .usage("request from \(source) is larger than \(maxRequestBytes) bytes") }
        return String(decoding: data, as: UTF8.self)
    }
}
