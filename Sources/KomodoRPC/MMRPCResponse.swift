import JSON

/// An HTTP reply of the mmrpc listener: status, headers and body bytes.
public struct MMRPCHTTPResponse: Equatable, Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// KDF's response envelopes, with keys in KDF's order.
public enum MMRPCEnvelope {
    /// `{"mmrpc":"2.0","result":…,"id":…}`
    public static func success(_ result: JSONValue, id: UInt64?) -> JSONValue {
        .object([JSONMember("mmrpc", .string("2.0")), JSONMember("result", result),
                 JSONMember("id", id.map { .integer($0) } ?? .null)])
    }

    /// `{"mmrpc":"2.0","error":…,"error_path":…,"error_trace":…,"error_type":…[,"error_data":…],"id":…}`
    public static func failure(_ e: MMRPCError, id: UInt64?) -> JSONValue {
        var members = [JSONMember("mmrpc", .string("2.0")), JSONMember("error", .string(e.display)),
                       JSONMember("error_path", .string(e.errorPath)), JSONMember("error_trace", .string(e.errorTrace)),
                       JSONMember("error_type", .string(e.errorType))]
        if let d = e.errorData { members.append(JSONMember("error_data", d)) }
        members.append(JSONMember("id", id.map { .integer($0) } ?? .null))
        return .object(members)
    }

    /// The legacy dispatcher's `{"error":"…"}`.
    public static func legacy(_ message: String) -> JSONValue {
        .object([JSONMember("error", .string(message))])
    }
}
