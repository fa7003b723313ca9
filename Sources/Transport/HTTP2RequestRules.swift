import CNghttp2
import Glibc

/// The HTTP/2 request rules (RFC 9113 §8.1–8.3) a server session enforces on each stream.
///
/// nghttp2 enforces the same rules itself ("HTTP messaging", nghttp2 1.52 `nghttp2_http.c`) unless
/// `nghttp2_option_set_no_http_messaging` is set. Server sessions set it and apply these rules
/// instead, with the same outcomes, because nghttp2 re-validates every header value of every
/// request byte by byte, and a gRPC request carries a long value on every call (LND's `macaroon`,
/// ~600 hex bytes, even when HPACK sends it as a one-byte index): ~10% of a TrackPaymentV2 call's
/// CPU. Here regular values are checked eight bytes per step; names and pseudo-header values still
/// go through nghttp2's own checkers (`nghttp2_check_header_name`, `_method`, `_path`,
/// `_authority`).
///
/// Outcomes, as nghttp2 1.52's with no `on_invalid_header` callback (verified side by side in
/// `HTTP2RequestRulesTests`, which runs every case against both):
/// - `.reject` (the stream is reset with PROTOCOL_ERROR and its owner sees only `streamClosed`):
///   a field name outside the lowercase token set (uppercase included); a value with a control
///   character other than HTAB, DEL, or leading/trailing SP/HTAB; a pseudo-header with a bad
///   value, unknown, repeated, empty, after a regular field or in trailers; a connection-specific
///   field (`connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`); `te`
///   other than `trailers`; a repeated or non-numeric `content-length`; a repeated `host`.
/// - End of the request header block (`requestHeadersEnded`): `:method`, `:scheme`, `:path` and
///   one of `:authority`/`host` are required, `:path` must start with "/" (or be "*" for
///   OPTIONS); CONNECT needs `:authority` and no `:path`/`:scheme`.
/// - Trailers must end the stream; DATA beyond `content-length`, or END_STREAM before it, is an error.
struct HTTP2RequestRules {
    enum Verdict { case pass, reject }

    // Words first, the 2-byte flags last: 18 bytes, so the stream's next fields pack after them.
    private var contentLength: Int64 = -1
    private var received: Int64 = 0
    private var flags: UInt16 = 0

    private static let fMethod: UInt16 = 1, fPath: UInt16 = 2, fScheme: UInt16 = 4, fAuthority: UInt16 = 8
    private static let fHost: UInt16 = 16, fConnect: UInt16 = 32, fOptions: UInt16 = 64
    private static let fPseudoDisallowed: UInt16 = 128, fPathRegular: UInt16 = 256, fPathAsterisk: UInt16 = 512
    private static let fProtocolAllowed: UInt16 = 1024, fProtocol: UInt16 = 2048

    private enum Token { case authority, method, path, scheme, connectProtocol, host, contentLength, te, connectionSpecific, other }

    /// `connectProtocol`: extended CONNECT (RFC 8441) is enabled on the session.
    init(connectProtocol: Bool = false) {
        if connectProtocol { flags = Self.fProtocolAllowed }
    }

    /// Checks one field of a request header block (`trailer` false) or of trailers. `memo` is the
    /// session's memory of recently validated long values.
    mutating func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, trailer: Bool,
                         memo: inout FieldValueMemo) -> Verdict {
        let n = name.count
        guard n > 0, let np = name.baseAddress?.assumingMemoryBound(to: UInt8.self),
              nghttp2_check_header_name(np, n) != 0 else { return .reject }
        let pseudo = np[0] == UInt8(ascii: ":")
        let token = Self.token(np, n)
        let vp = value.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let vn = value.count
        let valueOK: Bool
        switch token {
        case .method: valueOK = vp.map { nghttp2_check_method($0, vn) != 0 } ?? true
        case .path: valueOK = vp.map { nghttp2_check_path($0, vn) != 0 } ?? true
        case .authority, .host: valueOK = vp.map { nghttp2_check_authority($0, vn) != 0 } ?? true
        case .scheme: valueOK = Self.isScheme(value)
        default: valueOK = memo.isValid(value)
        }
        if !valueOK { return .reject }
        if pseudo && (trailer || flags & Self.fPseudoDisallowed != 0) { return .reject }
        switch token {
        case .authority:
            if !pseudoOnce(Self.fAuthority, value) { return .reject }
        case .method:
            if !pseudoOnce(Self.fMethod, value) { return .reject }
            if Self.equals(value, "CONNECT") {
                flags |= Self.fConnect
            } else if Self.equals(value, "OPTIONS") {
                flags |= Self.fOptions
            }
        case .path:
            if !pseudoOnce(Self.fPath, value) { return .reject }
            if value[0] == UInt8(ascii: "/") { flags |= Self.fPathRegular }
            else if vn == 1 && value[0] == UInt8(ascii: "*") { flags |= Self.fPathAsterisk }
        case .scheme:
            if !pseudoOnce(Self.fScheme, value) { return .reject }
        case .connectProtocol:
            if flags & Self.fProtocolAllowed == 0 || !pseudoOnce(Self.fProtocol, value) { return .reject }
        case .host:
            if !pseudoOnce(Self.fHost, value) { return .reject }
        case .contentLength:
            if contentLength != -1 { return .reject }
            guard let v = Self.parseUInt(value) else { return .reject }
            contentLength = v
        case .connectionSpecific:
            return .reject
        case .te:
            if !Self.equalsIgnoringCase(value, "trailers") { return .reject }
        case .other:
            if pseudo { return .reject }   // :status, unknown
        }
        if !pseudo { flags |= Self.fPseudoDisallowed }
        return .pass
    }

    /// The request header block ended: are the required pseudo-headers there?
    mutating func requestHeadersEnded() -> Bool {
        if flags & Self.fConnect != 0 && flags & Self.fProtocol == 0 {
            // A classic CONNECT (a tunnel): no `:scheme`/`:path`; its body has no declared length.
            guard flags & (Self.fPath | Self.fScheme) == 0, flags & Self.fAuthority != 0 else { return false }
            contentLength = -1
            return true
        }
        let required = Self.fMethod | Self.fPath | Self.fScheme
        guard flags & required == required, flags & (Self.fAuthority | Self.fHost) != 0 else { return false }
        if flags & Self.fProtocol != 0 && (flags & Self.fConnect == 0 || flags & Self.fAuthority == 0) { return false }
        return flags & Self.fPathRegular != 0 || (flags & Self.fPathAsterisk != 0 && flags & Self.fOptions != 0)
    }

    /// A DATA payload of `n` bytes arrived: false once it exceeds `content-length`.
    mutating func data(_ n: Int) -> Bool {
        received += Int64(n)
        return contentLength == -1 || received <= contentLength
    }

    /// The peer ended the stream: false when `content-length` promised another size.
    func remoteEnded() -> Bool { contentLength == -1 || contentLength == received }

    // MARK: Checks

    private mutating func pseudoOnce(_ flag: UInt16, _ value: UnsafeRawBufferPointer) -> Bool {
        if flags & flag != 0 { return false }
        // All-whitespace (or empty) values are invalid for these fields.
        if value.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return false }
        flags |= flag
        return true
    }

    @inline(__always) private static func validByte(_ c: UInt8) -> Bool { c == 0x09 || (c >= 0x20 && c != 0x7F) }

    /// RFC 9113 §8.2.1 field value: no NUL/CR/LF or other control character except HTAB, no DEL,
    /// no leading or trailing SP/HTAB (nghttp2_check_header_value_rfc9113). Sixteen bytes per
    /// step (two words checked at once for a byte below 0x20 or equal to 0x7F, both tests exact;
    /// a hit, e.g. an HTAB, is then decided byte by byte).
    static func isValidFieldValue(_ v: UnsafeRawBufferPointer) -> Bool {
        let n = v.count
        guard n > 0, let p = v.baseAddress else { return true }
        let first = p.load(as: UInt8.self), last = p.load(fromByteOffset: n &- 1, as: UInt8.self)
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return false }
        var i = 0
        while n &- i >= 16 {
            let a = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = p.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            if suspicious(a) | suspicious(b) != 0 && !bytesValid(p, i, i &+ 16) { return false }
            i &+= 16
        }
        if n &- i >= 8 {
            if suspicious(p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) != 0 && !bytesValid(p, i, i &+ 8) { return false }
            i &+= 8
        }
        return bytesValid(p, i, n)
    }

    /// Non-zero when some byte of `w` is below 0x20 or equals 0x7F (Bit Twiddling Hacks `hasless`
    /// and `haszero`: exact as a whole-word answer).
    @inline(__always) private static func suspicious(_ w: UInt64) -> UInt64 {
        let x = w ^ 0x7F7F_7F7F_7F7F_7F7F
        return ((w &- 0x2020_2020_2020_2020) & ~w | (x &- 0x0101_0101_0101_0101) & ~x) & 0x8080_8080_8080_8080
    }

    @inline(__always) private static func bytesValid(_ p: UnsafeRawPointer, _ from: Int, _ to: Int) -> Bool {
        var j = from
        while j < to {
            if !validByte(p.load(fromByteOffset: j, as: UInt8.self)) { return false }
            j &+= 1
        }
        return true
    }

    /// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    static func isScheme(_ v: UnsafeRawBufferPointer) -> Bool {
        guard let f = v.first, Self.isAlpha(f) else { return false }
        return v.dropFirst().allSatisfy { isAlpha($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

    private static func parseUInt(_ v: UnsafeRawBufferPointer) -> Int64? {
        guard !v.isEmpty else { return nil }
        var n: Int64 = 0
        for c in v {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 { return nil }
            n = s
        }
        return n
    }

    @inline(__always) private static func equals(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && memcmp(b.baseAddress!, s.utf8Start, b.count) == 0
    }

    private static func equalsIgnoringCase(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count == s.utf8CodeUnitCount else { return false }
        for i in 0..<b.count {
            var c = b[i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != s.utf8Start[i] { return false }
        }
        return true
    }

    private static func token(_ p: UnsafePointer<UInt8>, _ n: Int) -> Token {
        let b = UnsafeRawBufferPointer(start: p, count: n)
        switch n {
        case 2: return equals(b, "te") ? .te : .other
        case 4: return equals(b, "host") ? .host : .other
        case 5: return equals(b, ":path") ? .path : .other
        case 9: return equals(b, ":protocol") ? .connectProtocol : .other
        case 7:
            if equals(b, ":method") { return .method }
            if equals(b, ":scheme") { return .scheme }
            return equals(b, "upgrade") ? .connectionSpecific : .other
        case 10:
            if equals(b, ":authority") { return .authority }
            return equals(b, "connection") || equals(b, "keep-alive") ? .connectionSpecific : .other
        case 14: return equals(b, "content-length") ? .contentLength : .other
        case 16: return equals(b, "proxy-connection") ? .connectionSpecific : .other
        case 17: return equals(b, "transfer-encoding") ? .connectionSpecific : .other
        default: return .other
        }
    }
}

/// A session's memory of the last two long field values found valid, so that a value a client
/// repeats on every request (LND's ~600-byte `macaroon`) is checked with one `memcmp` against the
/// bytes already validated instead of again character by character. Equal bytes have the same
/// validity, so the outcome is unchanged. Bounded: two values of at most `maxLength` bytes.
struct FieldValueMemo {
    static let minLength = 64
    static let maxLength = 4096
    private var slots: ([UInt8], [UInt8]) = ([], [])
    private var next = 0

    mutating func isValid(_ v: UnsafeRawBufferPointer) -> Bool {
        let n = v.count
        guard n >= Self.minLength, n <= Self.maxLength, let p = v.baseAddress else {
            return HTTP2RequestRules.isValidFieldValue(v)
        }
        if Self.same(slots.0, p, n) || Self.same(slots.1, p, n) { return true }
        guard HTTP2RequestRules.isValidFieldValue(v) else { return false }
        if next == 0 { slots.0 = Array(v) } else { slots.1 = Array(v) }
        next ^= 1
        return true
    }

    @inline(__always) private static func same(_ a: [UInt8], _ p: UnsafeRawPointer, _ n: Int) -> Bool {
        a.count == n && a.withUnsafeBytes { memcmp($0.baseAddress!, p, n) == 0 }
    }
}
