import Transport

/// A grpc-gateway path template such as `/v2/router/track/{payment_hash}` or
/// `/v1/channels/{channel_point.funding_txid_str}/{channel_point.output_index}`: literal segments
/// and variables, each variable one whole segment bound to a (possibly nested) request field.
public struct PathTemplate: Sendable, CustomStringConvertible {
    public enum Segment: Sendable, Equatable {
        case literal(String)
        /// The request field path the segment's value sets, e.g. ["channel_point", "output_index"].
        case variable([String])
    }

    public let segments: [Segment]
    public let description: String

    public init(_ template: String) {
        description = template
        segments = template.split(separator: "/", omittingEmptySubsequences: true).map { s in
            if s.hasPrefix("{") && s.hasSuffix("}") {
                return .variable(s.dropFirst().dropLast().split(separator: ".").map(String.init))
            }
            return .literal(String(s))
        }
    }

    /// Literal segments count first when two templates match the same path (a literal beats a
    /// variable at the first segment where they differ).
    var specificity: [Bool] { segments.map { if case .literal = $0 { return true } else { return false } } }

    /// The variables' values when `path` (its segments already split on "/" and percent-decoded)
    /// matches, nil otherwise. A variable never matches an empty segment.
    public func match(_ path: [String]) -> [(field: [String], value: String)]? {
        guard path.count == segments.count else { return nil }
        var bound: [(field: [String], value: String)] = []
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let l): if l != part { return nil }
            case .variable(let f):
                if part.isEmpty { return nil }
                bound.append((f, part))
            }
        }
        return bound
    }

    /// A request path split into segments, each percent-decoded on its own, so `%2F` inside a
    /// segment is a "/" of the value (standard base64 in a path works; LND's gateway routes on the
    /// decoded path and answers 404). Nil when an escape is malformed.
    public static func segments(ofPath path: String) -> [String]? {
        var out: [String] = []
        var path = path
        let ok = path.withUTF8 { u -> Bool in
            var start = 0
            var escaped = false
            for i in 0...u.count {
                if i < u.count && u[i] != UInt8(ascii: "/") {
                    if u[i] == UInt8(ascii: "%") { escaped = true }
                    continue
                }
                if i > start {
                    let raw = String(decoding: UnsafeBufferPointer(rebasing: u[start..<i]), as: UTF8.self)
                    if escaped {
                        guard let s = HTTPRequestHead.percentDecode(raw) else { return false }
                        out.append(s)
                    } else {
                        out.append(raw)
                    }
                }
                start = i + 1
                escaped = false
            }
            return true
        }
        return ok ? out : nil
    }
}
