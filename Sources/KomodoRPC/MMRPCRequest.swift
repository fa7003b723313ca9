import JSON

/// KDF's `MmRpcRequest` (serde `deny_unknown_fields`): `mmrpc` "2.0", `userpass`, `method`,
/// `params` (any JSON, null when absent) and `id` (usize or null).
public struct MMRPCRequest: Equatable, Sendable {
    public var userpass: String?
    public var method: String
    public var params: JSONValue
    public var id: UInt64?

    static let fields = ["mmrpc", "userpass", "method", "params", "id"]

    /// The `id` to echo in any response to `value`, even one that failed to parse: a usize, or null.
    public static func echoedID(_ value: JSONValue) -> UInt64? {
        guard let v = value["id"], case .number(let t) = v, SerdeMessage.isIntegerLiteral(t) else { return nil }
        return JSONNumber.integer(t, UInt64.self)
    }

    /// Step 2 of KDF's order: `mmrpc` parsed as the version enum (only `"2.0"` exists).
    public static func checkVersion(_ value: JSONValue) throws(MMRPCError) {
        guard let v = value["mmrpc"] else { return }
        switch v {
        case .string("2.0"): return
        case .string(let s): throw .invalidMmRpcVersion(SerdeMessage.unknownVariant(s, expected: ["2.0"]))
        default: throw .invalidMmRpcVersion(SerdeMessage.invalidType(v, expected: "string or map"))
        }
    }

    /// Step 3: the whole object as `MmRpcRequest`; failures are envelope `InvalidRequest`s.
    public init(_ value: JSONValue) throws(MMRPCError) {
        guard case .object(let members) = value else {
            throw .invalidRequest(SerdeMessage.invalidType(value, expected: "struct MmRpcRequest"), params: false)
        }
        var method: String?
        var params: JSONValue = .null
        do throws(SerdeError) {
            for m in members {
                switch m.key {
                case "mmrpc": break
                case "userpass": userpass = m.value == .null ? nil : try ParamsReader.string(m.value)
                case "method": method = try ParamsReader.string(m.value)
                case "params": params = m.value
                case "id": id = m.value == .null ? nil : try ParamsReader.unsigned(m.value, UInt64.self, name: "usize")
                default: throw SerdeError(SerdeMessage.unknownField(m.key, expected: Self.fields))
                }
            }
            guard let method else { throw SerdeError(SerdeMessage.missingField("method")) }
            self.method = method
            self.params = params
        } catch {
            throw .invalidRequest(error.message, params: false)
        }
    }
}
