import Locks
import Glibc

/// Serialization of HTTP/1.1 response heads and chunked framing (RFC 9112 §4, §7.1).
enum HTTP1ResponseEncoding {
    /// Field names the transport writes itself; an application's are dropped.
    static func isTransportOwned(_ name: String) -> Bool {
        // Only these lengths can match (date, upgrade, connection/keep-alive, content-length,
        // transfer-encoding): most names are rejected without comparing.
        switch name.utf8.count {
        case 4, 7, 10, 14, 17: break
        default: return false
        }
        for n in ["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date"]
        where HTTPHeaders.equalsIgnoringCase(n, name) { return true }
        return false
    }

    /// A field name is a token; a value has no CR, LF or NUL (RFC 9110 §5.1, §5.5).
    static func isValidField(_ name: String, _ value: String) -> Bool {
        guard !name.isEmpty else { return false }
        for c in name.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            default:
                if !"!#$%&'*+-.^_`|~".utf8.contains(c) { return false }
            }
        }
        return !value.utf8.contains { $0 == 0x0d || $0 == 0x0a || $0 == 0 }
    }

    /// Appends "HTTP/1.1 <status> <reason>\r\n", the application's fields (valid, not owned),
    /// `extra` fields, a Date and the blank line.
    static func appendHead(to out: inout [UInt8], status: Int, headers: HTTPHeaders, extra: [(String, String)]) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        if (100...999).contains(status) {
            out.append(UInt8(48 + status / 100)); out.append(UInt8(48 + status / 10 % 10)); out.append(UInt8(48 + status % 10))
        } else {
            out.append(contentsOf: String(status).utf8)
        }
        out.append(0x20); out.append(contentsOf: reasonPhrase(status).utf8); out.append(contentsOf: "\r\n".utf8)
        for (n, v) in headers where !isTransportOwned(n) && isValidField(n, v) {
            out.append(contentsOf: n.utf8); out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: v.utf8); out.append(contentsOf: "\r\n".utf8)
        }
        for (n, v) in extra {
            out.append(contentsOf: n.utf8); out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: v.utf8); out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Date: ".utf8); out.append(contentsOf: DateCache.shared.current())
        out.append(contentsOf: "\r\n\r\n".utf8)
    }

    /// Appends one chunk: hex size, CRLF, data, CRLF (nothing for empty data: a zero chunk ends the body).
    static func appendChunk(to out: inout [UInt8], _ data: [UInt8]) {
        guard !data.isEmpty else { return }
        out.append(contentsOf: String(data.count, radix: 16).utf8)
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: data)
        out.append(contentsOf: "\r\n".utf8)
    }

    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// Statuses whose responses carry no body (RFC 9110 §6.4.1).
    static func forbidsBody(_ status: Int) -> Bool { status < 200 || status == 204 || status == 304 }

    /// `httpDate()`'s bytes, formatted once per second (every response carries a Date).
    final class DateCache: @unchecked Sendable {
        static let shared = DateCache()
        private let lock = Lock()
        private var second: time_t = -1
        private var bytes: [UInt8] = []

        func current() -> [UInt8] {
            let now = time(nil)
            return lock.withLock {
                if now != second {
                    second = now
                    bytes = Array(HTTP1ResponseEncoding.httpDate(now).utf8)
                }
                return bytes
            }
        }
    }

    /// The time `at` (default now) in IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    static func httpDate(_ at: time_t? = nil) -> String {
        var t = at ?? time(nil)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 40)
        let n = strftime(&buf, buf.count, "%a, %d %b %Y %H:%M:%S GMT", &tm)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// RFC 9110 §15 reason phrases.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 499: return "Client Closed Request"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
