import CLlhttp

/// What the request parser reports (loop thread, from inside `HTTP1RequestParser.feed`).
protocol HTTP1RequestParserDelegate: AnyObject {
    /// The first byte of a request was parsed.
    func parserMessageBegan()
    /// A request head is complete. Returns nil to go on, or an error to stop parsing.
    func parserHeadComplete(_ head: HTTPRequestHead, keepAlive: Bool, upgrade: Bool, contentLength: UInt64?) -> HTTP1ParseError?
    /// A chunk of the body. Returns nil to go on, or an error to stop parsing.
    func parserBody(_ chunk: UnsafeRawBufferPointer) -> HTTP1ParseError?
    /// The request is complete. Returns true to pause parsing right after it.
    func parserMessageComplete() -> Bool
}

/// Why parsing stopped on bad input, with the status the server answers.
struct HTTP1ParseError: Error, Equatable {
    var status: Int
    var reason: String
    static func badRequest(_ r: String) -> HTTP1ParseError { HTTP1ParseError(status: 400, reason: r) }
    static let headTooLarge = HTTP1ParseError(status: 431, reason: "request header fields too large")
    static let bodyTooLarge = HTTP1ParseError(status: 413, reason: "request body too large")
}

/// llhttp (RFC 9112 request parsing) behind a small Swift face: bytes in, `HTTP1RequestParserDelegate`
/// events out. The request line and header fields are gathered here, bounded by `maxHeadBytes`
/// (counted as parsed: method, target, version and each field line with its separators).
/// Confined to one thread.
final class HTTP1RequestParser {
    enum FeedResult: Equatable {
        /// Everything was consumed.
        case consumed
        /// Parsing paused after `consumed` bytes (a delegate asked, or an upgrade request ended).
        case paused(consumed: Int, upgrade: Bool)
        /// Bad input: answer `error.status` and close.
        case failed(HTTP1ParseError)
    }

    weak var delegate: HTTP1RequestParserDelegate?
    let maxHeadBytes: Int
    private let parser: UnsafeMutablePointer<llhttp_t>
    private let settings: UnsafeMutablePointer<llhttp_settings_t>

    // The head being parsed.
    private var method: [UInt8] = []
    private var target: [UInt8] = []
    private var fieldName: [UInt8] = []
    private var fieldValue: [UInt8] = []
    private var headers = HTTPHeaders()
    private var headBytes = 0
    private var inValue = false
    fileprivate var callbackError: HTTP1ParseError?

    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
        settings = .allocate(capacity: 1)
        llhttp_settings_init(settings)
        settings.pointee.on_message_begin = { p in parserOf(p).messageBegan() }
        settings.pointee.on_url = { p, at, n in parserOf(p).append(&parserOf(p).target, at, n) }
        settings.pointee.on_method = { p, at, n in parserOf(p).append(&parserOf(p).method, at, n) }
        settings.pointee.on_version = { p, _, n in parserOf(p).count(n) }
        settings.pointee.on_header_field = { p, at, n in
            let me = parserOf(p)
            if me.inValue { me.endField() }
            return me.append(&me.fieldName, at, n)
        }
        settings.pointee.on_header_value = { p, at, n in
            let me = parserOf(p)
            me.inValue = true
            return me.append(&me.fieldValue, at, n)
        }
        settings.pointee.on_header_value_complete = { p in
            let me = parserOf(p)
            me.inValue = true
            me.endField()
            return 0
        }
        settings.pointee.on_headers_complete = { p in parserOf(p).headComplete() }
        settings.pointee.on_body = { p, at, n in
            let me = parserOf(p)
            if let e = me.delegate?.parserBody(UnsafeRawBufferPointer(start: at, count: n)) { me.callbackError = e; return -1 }
            return 0
        }
        settings.pointee.on_message_complete = { p in
            (parserOf(p).delegate?.parserMessageComplete() ?? false) ? Int32(HPE_PAUSED.rawValue) : 0
        }
        parser = .allocate(capacity: 1)
        llhttp_init(parser, HTTP_REQUEST, settings)
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
        settings.deallocate()
    }

    /// Parses `bytes` (continuing where the last call stopped).
    func feed(_ bytes: UnsafeRawBufferPointer) -> FeedResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .consumed }
        let start = base.assumingMemoryBound(to: CChar.self)
        let err = llhttp_execute(parser, start, bytes.count)
        switch err {
        case HPE_OK:
            return .consumed
        case HPE_PAUSED, HPE_PAUSED_UPGRADE:
            let pos = llhttp_get_error_pos(parser).map { $0 - UnsafePointer(start) } ?? bytes.count
            let upgrade = err == HPE_PAUSED_UPGRADE
            return .paused(consumed: max(0, min(bytes.count, pos)), upgrade: upgrade)
        default:
            if let e = callbackError { return .failed(e) }
            let reason = llhttp_get_error_reason(parser).map { String(cString: $0) } ?? "malformed request"
            return .failed(.badRequest(reason))
        }
    }

    /// Resumes after a `.paused` result (not after an upgrade: the connection changed protocol).
    func resume() { llhttp_resume(parser) }

    // MARK: Callbacks

    fileprivate func messageBegan() -> Int32 {
        method.removeAll(keepingCapacity: true); target.removeAll(keepingCapacity: true)
        fieldName.removeAll(keepingCapacity: true); fieldValue.removeAll(keepingCapacity: true)
        headers = HTTPHeaders(); headBytes = 0; inValue = false; callbackError = nil
        delegate?.parserMessageBegan()
        return 0
    }

    fileprivate func count(_ n: Int) -> Int32 {
        headBytes += n
        if headBytes > maxHeadBytes { callbackError = .headTooLarge; return -1 }
        return 0
    }

    fileprivate func append(_ into: inout [UInt8], _ at: UnsafePointer<CChar>?, _ n: Int) -> Int32 {
        headBytes += n
        if headBytes > maxHeadBytes { callbackError = .headTooLarge; return -1 }
        if let at, n > 0 { into.append(contentsOf: UnsafeRawBufferPointer(start: at, count: n).bindMemory(to: UInt8.self)) }
        return 0
    }

    fileprivate func endField() {
        guard inValue else { return }
        inValue = false
        headBytes += 4   // ": " and CRLF
        headers.add(name: String(decoding: fieldName, as: UTF8.self), value: String(decoding: fieldValue, as: UTF8.self))
        fieldName.removeAll(keepingCapacity: true); fieldValue.removeAll(keepingCapacity: true)
    }

    fileprivate func headComplete() -> Int32 {
        if headBytes > maxHeadBytes { callbackError = .headTooLarge; return -1 }
        let p = parser.pointee
        let m = String(decoding: method, as: UTF8.self)
        let t = String(decoding: target, as: UTF8.self)
        guard t.first == "/" || (t == "*" && m == "OPTIONS") else {
            // Origin form only (RFC 9112 §3.2.1); absolute and authority forms are for proxies.
            callbackError = .badRequest("unsupported request target"); return -1
        }
        guard p.http_major == 1 else {
            // HTTP/0.9 (no version) and anything but 1.x are not served on this parser.
            callbackError = .badRequest("unsupported HTTP version"); return -1
        }
        let head = HTTPRequestHead(method: m, target: t, version: (Int(p.http_major), Int(p.http_minor)), headers: headers)
        let keepAlive = llhttp_should_keep_alive(parser) != 0
        let hasLength = (p.flags & UInt16(F_CONTENT_LENGTH.rawValue)) != 0
        let upgrade = p.upgrade != 0
        guard let d = delegate else { return 0 }
        if let e = d.parserHeadComplete(head, keepAlive: keepAlive, upgrade: upgrade,
                                        contentLength: hasLength ? p.content_length : nil) {
            callbackError = e; return -1
        }
        return 0
    }
}

@inline(__always) private func parserOf(_ p: UnsafeMutablePointer<llhttp_t>?) -> HTTP1RequestParser {
    Unmanaged<HTTP1RequestParser>.fromOpaque(p!.pointee.data).takeUnretainedValue()
}
