import CNghttp2

/// Per-stream callbacks (called on the connection's loop thread, from inside nghttp2 processing).
public protocol HTTP2StreamDelegate: AnyObject {
    /// One header field of a HEADERS block (request headers, response headers or trailers).
    /// Must only record the field: it may not close the connection or replace the stream's
    /// delegate (server sessions call it without retaining the delegate).
    func stream(_ stream: HTTP2Stream, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    /// A complete HEADERS block was received; `endStream` when it also ended the peer's side.
    func streamHeadersEnded(_ stream: HTTP2Stream, endStream: Bool)
    /// A chunk of DATA payload (the stream's flow-control window is already accounted for).
    func stream(_ stream: HTTP2Stream, data: UnsafeRawBufferPointer)
    /// The peer half-closed the stream with END_STREAM on a DATA frame.
    func streamRemoteEnded(_ stream: HTTP2Stream)
    /// The outbound buffer drained to the level armed with `HTTP2Stream.notifyWhenBuffered(atMost:)`.
    func streamWritable(_ stream: HTTP2Stream)
    /// The stream is gone (completed, reset by either side, or the connection was lost).
    /// `errorCode` is the HTTP/2 error code (0 = NO_ERROR).
    func streamClosed(_ stream: HTTP2Stream, errorCode: UInt32)
    /// The session lets go of the closed stream and, right after, of this delegate: drop the
    /// references that would keep each other alive. Comes after `streamClosed`, at once or at the
    /// loop's next idle moment (see `HTTP2Session.onStreamsToRelease`). Default: nothing.
    func streamReleased(_ stream: HTTP2Stream)
}

extension HTTP2StreamDelegate {
    public func streamReleased(_ stream: HTTP2Stream) {}
}

/// One HTTP/2 stream of an `HTTP2Session`. All methods must be called on the session's loop thread.
///
/// Outbound bytes go into a per-stream buffer that nghttp2 drains as flow control allows; the owner
/// bounds it (see `bufferedBytes`, `streamWritable`). The buffer is released once drained.
public final class HTTP2Stream {
    // Stored properties are declared in this order to pack them (every stream of 100,000 pays for
    // each byte of padding): references and words first, then the 4-byte id, the optional
    // threshold and the flags, which share what would otherwise be padding.

    /// The owning session (strong; the cycle through nghttp2's stream user data ends at close).
    public let session: HTTP2Session
    /// Receives this stream's events; strong, released when the stream closes.
    public var delegate: HTTP2StreamDelegate?
    /// A slot for the owner's per-stream object (strong).
    public var context: AnyObject?
    var outbound: [UInt8] = []
    /// Arrays written while `outbound` still held bytes, queued by reference in order (a frame
    /// shared by a fan-out and then a small frame after it cost no copy of the shared one); each
    /// becomes `outbound` in turn. Nil on the common paths (one write, then trailers): a stream
    /// pays one word for it.
    var later: LaterWrites?
    var trailers: HTTP2HeaderBlock?
    // Intrusive list of open streams (the session holds the +1 retain via nghttp2 user data).
    unowned(unsafe) var prevOpen: HTTP2Stream?
    unowned(unsafe) var nextOpen: HTTP2Stream?
    var outOffset = 0
    /// Server streams: the RFC 9113 §8 request checks (see `HTTP2RequestRules`).
    var rules = HTTP2RequestRules()
    public let id: Int32
    /// When set, `streamWritable` fires once `bufferedBytes` falls to this level (then it resets).
    var writableThreshold: Int?
    /// Set by the owner of a long-lived stream (a gRPC streaming call): once closed, it is let go
    /// of at the loop's next idle moment rather than at once (see `HTTP2Session.onStreamsToRelease`).
    /// Short calls are freed at once, while their memory is still in cache.
    public var releaseWhenIdle = false
    var headersSent = false
    var finished = false      // no more data will be written
    var deferred = false
    public internal(set) var isClosed = false
    /// Set when the request broke those rules: the stream is being reset (PROTOCOL_ERROR) and its
    /// delegate hears nothing more but `streamClosed`.
    var rejected = false

    /// Bytes written but not yet taken by nghttp2.
    public var bufferedBytes: Int { outbound.count - outOffset + (later?.bytes ?? 0) }

    /// Arms a one-shot `streamWritable` callback for when at most `n` bytes remain buffered.
    public func notifyWhenBuffered(atMost n: Int) { writableThreshold = n }

    /// True once response (or request) headers were submitted.
    public var headersSentPublic: Bool { headersSent }

    init(id: Int32, session: HTTP2Session) { self.id = id; self.session = session }

    /// Server: sends response headers (HEADERS without END_STREAM); data and trailers follow.
    public func sendHeaders(_ block: HTTP2HeaderBlock) {
        guard !isClosed, !headersSent else { return }
        headersSent = true
        session.submitResponse(self, headers: block, withBody: true)
    }

    /// Reserves room for `n` more outbound bytes (avoids regrowth for a known response size).
    public func reserveCapacity(_ n: Int) {
        if outbound.capacity - outbound.count < n { outbound.reserveCapacity(outbound.count + n) }
    }

    /// Appends bytes to the outbound buffer.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, !finished else { return }
        if later == nil {
            outbound.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))   // memcpy, not byte by byte
        } else {
            queueLater(Array(bytes.assumingMemoryBound(to: UInt8.self)))
        }
        kick()
    }

    /// Appends bytes to the outbound buffer by reference, never copying: when nothing is buffered
    /// the array becomes the buffer, otherwise it is queued after it (`later`). One encoded
    /// message shared by many streams (a fan-out) costs each stream a reference, and the storage is
    /// released once nghttp2 has taken it; the caller's array is never modified.
    public func write(_ bytes: [UInt8]) {
        guard !isClosed, !finished else { return }
        if bytes.isEmpty { kick(); return }   // nothing to queue (an empty array has no storage to read)
        if outbound.isEmpty && later == nil {
            outbound = bytes; outOffset = 0
        } else {
            queueLater(bytes)
        }
        kick()
    }

    private func queueLater(_ bytes: [UInt8]) {
        if let l = later { l.rest.append(bytes); l.bytes += bytes.count } else { later = LaterWrites(bytes) }
    }

    /// The next array queued behind `outbound`, if any.
    private func nextLater() -> [UInt8]? {
        guard let l = later else { return nil }
        let c = l.head
        if l.rest.isEmpty { later = nil } else { l.head = l.rest.removeFirst(); l.bytes -= c.count }
        return c
    }

    /// Ends the stream after the buffered data: server with `trailers` (HEADERS+END_STREAM), client
    /// with END_STREAM on the last DATA frame.
    public func finish(trailers: HTTP2HeaderBlock?) {
        guard !isClosed, !finished else { return }
        finished = true
        self.trailers = trailers
        if session.isServer && !headersSent {
            // Nothing sent yet: answer with one HEADERS+END_STREAM block (a "trailers-only" response).
            if let t = trailers { headersSent = true; session.submitResponse(self, headers: t, withBody: false); return }
        }
        kick()
    }

    /// Server: a single HEADERS frame with END_STREAM (gRPC trailers-only responses).
    public func respondTrailersOnly(_ block: HTTP2HeaderBlock) {
        guard !isClosed, !headersSent else { return }
        headersSent = true; finished = true
        session.submitResponse(self, headers: block, withBody: false)
    }

    /// Sends RST_STREAM with `errorCode` (e.g. 8 = CANCEL).
    public func reset(errorCode: UInt32 = 8) {
        guard !isClosed else { return }
        session.resetStream(self, errorCode: errorCode)
    }

    private func kick() {
        if deferred { deferred = false; session.resumeData(self) }
        session.needsFlush()
    }

    /// Called by the nghttp2 read callback: copies up to `cap` bytes out.
    func take(into buf: UnsafeMutablePointer<UInt8>, cap: Int) -> Int {
        var n = min(cap, outbound.count - outOffset)
        if n > 0 {
            outbound.withUnsafeBufferPointer { src in
                buf.update(from: src.baseAddress! + outOffset, count: n)
            }
            outOffset += n
        }
        while n < cap, let next = nextLater() {
            // The buffer is drained: the next queued array takes its place.
            outbound = next
            let k = min(cap - n, outbound.count)
            if k > 0 { outbound.withUnsafeBufferPointer { src in (buf + n).update(from: src.baseAddress!, count: k) } }
            outOffset = k
            n += k
        }
        if n > 0 {
            if outOffset == outbound.count && later == nil {
                // Drained: release the buffer. An idle stream (e.g. a TrackPaymentV2 waiting for
                // its next update) then costs no outbound memory at all.
                outbound = []
                outOffset = 0
            } else if outOffset > 65536 && outOffset * 2 > outbound.count {
                outbound.removeFirst(outOffset); outOffset = 0
            }
        }
        return n
    }
}

/// The arrays an `HTTP2Stream` holds behind its buffer (`HTTP2Stream.later`), in order (`head`,
/// then `rest`), and their total size. One waiting array costs this object and nothing more.
final class LaterWrites {
    var head: [UInt8]
    var rest: [[UInt8]] = []
    var bytes: Int
    init(_ first: [UInt8]) { head = first; bytes = first.count }
}
