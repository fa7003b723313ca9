import Foundation

/// Typed access to a parsed JSON object with precise errors. Integers may be JSON numbers or
/// decimal strings (LND's JSON prints 64-bit integers as strings).
struct JSONFields {
    let object: [String: Any]
    let path: String

    static func parse(_ data: [UInt8]) throws(TopologyError) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed])
        } catch {
            throw .invalidJSON((error as NSError).localizedDescription)
        }
        guard let obj = value as? [String: Any] else { throw .invalidJSON("top level is not an object") }
        return obj
    }

    init(_ object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }
    func isNull(_ key: String) -> Bool { object[key] is NSNull }

    func string(_ key: String) throws(TopologyError) -> String {
        guard let v = object[key], !(v is NSNull) else { throw .missingField(path + key) }
        guard let s = v as? String else { throw .invalidValue(field: path + key, value: "\(v)") }
        return s
    }

    func optionalString(_ key: String) throws(TopologyError) -> String? {
        has(key) ? try string(key) : nil
    }

    func uint64(_ key: String) throws(TopologyError) -> UInt64 {
        guard let v = object[key], !(v is NSNull) else { throw .missingField(path + key) }
        if let s = v as? String, let n = UInt64(s) { return n }
        if let n = v as? NSNumber {
            let type = String(cString: n.objCType)
            switch type {
            case "c", "B":
                break  // a JSON boolean
            case "d", "f":
                let d = n.doubleValue
                if d >= 0, d == d.rounded(), d <= 9_007_199_254_740_992 { return UInt64(d) }
            default:
                if n.int64Value >= 0 || type == "Q" { return n.uint64Value }
            }
        }
        throw .invalidValue(field: path + key, value: "\(v)")
    }

    func uint64(_ key: String, default value: UInt64) throws(TopologyError) -> UInt64 {
        has(key) ? try uint64(key) : value
    }

    func uint32(_ key: String, default value: UInt32) throws(TopologyError) -> UInt32 {
        guard has(key) else { return value }
        let v = try uint64(key)
        guard let u = UInt32(exactly: v) else { throw .invalidValue(field: path + key, value: "\(v)") }
        return u
    }

    func bool(_ key: String, default value: Bool) throws(TopologyError) -> Bool {
        guard let v = object[key], !(v is NSNull) else { return value }
        guard let n = v as? NSNumber, ["c", "B"].contains(String(cString: n.objCType)) else {
            throw .invalidValue(field: path + key, value: "\(v)")
        }
        return n.boolValue
    }

    func objects(_ key: String) throws(TopologyError) -> [[String: Any]] {
        guard let v = object[key], !(v is NSNull) else { return [] }
        guard let a = v as? [Any] else { throw .invalidValue(field: path + key, value: "not an array") }
        var out: [[String: Any]] = []
        for (i, e) in a.enumerated() {
            guard let o = e as? [String: Any] else { throw .invalidValue(field: "\(path)\(key)[\(i)]", value: "not an object") }
            out.append(o)
        }
        return out
    }

    func object(_ key: String) throws(TopologyError) -> [String: Any]? {
        guard let v = object[key], !(v is NSNull) else { return nil }
        guard let o = v as? [String: Any] else { throw .invalidValue(field: path + key, value: "not an object") }
        return o
    }
}
