import Glibc
import CNghttp2

/// One TCP connection on one `EventLoop`: socket <-> `TLSEngine` <-> the `ConnectionProtocolHandler`
/// its ALPN chose (`HTTP2Session`, `HTTP1Session`).
///
/// The connection stays on its loop for life; its OpenSSL and protocol objects are touched only
/// there. Reads are processed in full (decrypt, feed the handler); the bytes produced in a loop
/// iteration are batched into TLS records and sent once per iteration, in `send`s of up to ~48 KiB
/// (see `flushPending`). When the socket cannot take more, the rest waits in `pending` and reading
/// pauses until it drains (backpressure).
final class Connection: EventLoopSelectable, EventLoopFlushable, @unchecked Sendable {
    let fd: Int32
    unowned(unsafe) let loop: EventLoop
    let tls: TLSEngine
    var session: ConnectionProtocolHandler?
    /// `session` when it is an `HTTP2Session` (the gRPC path), for calls without dynamic dispatch.
    private var h2Session: HTTP2Session?
    private var token: UInt64 = 0
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var dirtyMarked = false
    private var closed = false
    private var readPaused = false
    private var writeInterest = false
    /// Set while the handler refuses input (`wantsInput` false): reading pauses until it wants more.
    private var inputStalled = false
    private let makeSession: (_ alpn: String?) -> ConnectionProtocolHandler?
    /// The timer armed for the handler's `nextDeadline`, and that deadline.
    private var deadlineTimer: EventLoopTimer?
    private var armedDeadline: UInt64 = 0
    private var handshakeTimer: EventLoopTimer?
    let peerAddress: String
    var onClose: ((Connection) -> Void)?
    var onEstablished: ((Connection) -> Void)?
    var onFailure: ((String) -> Void)?
    private static let maxPending = 256 * 1024
    /// Ciphertext waiting for the socket above which no more frames are produced.
    private static let maxBacklog = 64 * 1024

    init(fd: Int32, loop: EventLoop, tls: TLSEngine, peerAddress: String,
         makeSession: @escaping (_ alpn: String?) -> ConnectionProtocolHandler?) {
        self.fd = fd; self.loop = loop; self.tls = tls; self.peerAddress = peerAddress
        self.makeSession = makeSession
    }

    /// Registers with the loop (loop thread). Client connections start the handshake here.
    func start(handshakeTimeoutNanos: UInt64 = 10_000_000_000) {
        token = loop.register(fd: fd, self)
        // Timers capture self strongly (no weak side table on the hot object); close() cancels them.
        handshakeTimer = loop.scheduleTimer(afterNanos: handshakeTimeoutNanos) { [self] in
            guard !closed, session == nil else { return }
            self.fail("TLS handshake timed out")
        }
        advanceHandshake()
        flushPending()
    }

    func handleEvents(readable: Bool, writable: Bool, hangup: Bool) {
        if closed { return }
        if writable { writeOut() }
        if readable && !readPaused { readIn() }
        else if hangup && !readable { close() }
        if !closed { flushPending() }
    }

    private func readIn() {
        let buf = loop.readBuffer
        var rounds = 0
        while !closed && rounds < 4 {
            let n = Glibc.read(fd, buf.baseAddress!, buf.count)
            if n > 0 {
                tls.feed(buf.baseAddress!, n)
                process()
                if n < buf.count || inputStalled { break }
                rounds += 1
            } else if n == 0 {
                close(); return
            } else {
                if errno == EAGAIN || errno == EINTR { break }
                close(); return
            }
        }
    }

    private func advanceHandshake() {
        switch tls.handshake() {
        case .wantMore: return
        case .failed(let why): fail(why)
        case .done:
            if let t = handshakeTimer { loop.cancelTimer(t); handshakeTimer = nil }
            let alpn = tls.alpn
            guard let s = makeSession(alpn) else { fail("ALPN \(alpn ?? "none") not served"); return }
            session = s
            h2Session = s as? HTTP2Session
            s.peerAddress = peerAddress
            s.onNeedsFlush = { [unowned(unsafe) self] in self.markDirty() }  // cleared in close()
            // Idle work (HTTP/2: closed streams are let go of) runs when the loop is idle (the
            // loop holds the connection until then; close() releases whatever is left).
            s.onIdleWork = { [unowned(unsafe) self] in self.loop.executeWhenIdle(self) }
            armDeadline()
            onEstablished?(self)
        }
    }

    private func process() {
        if session == nil {
            advanceHandshake()
            if session == nil { return }
        }
        let plain = loop.plainBuffer
        while !closed, let s = session {
            let h2 = h2Session   // HTTP/2 always takes input; called without dynamic dispatch
            if h2 == nil && !s.wantsInput { inputStalled = true; updateInterest(); return }
            switch tls.readPlaintext(into: plain.baseAddress!, cap: plain.count) {
            case .bytes(let n):
                let bytes = UnsafeRawBufferPointer(start: plain.baseAddress!, count: n)
                if !(h2?.receive(bytes) ?? s.receive(bytes)) {
                    flushPending(); close(); return
                }
            case .wantMore: return
            case .closed, .failed: flushPending(); close(); return
            }
        }
    }

    private func markDirty() {
        if !dirtyMarked && !closed { dirtyMarked = true; loop.markDirty(self) }
    }

    private func fail(_ why: String) {
        onFailure?(why)
        withSendBuffer { flushCiphertext($0) }
        close()
    }

    /// Drains nghttp2 output into TLS records, then ciphertext to the socket.
    ///
    /// Plaintext is cut into full 16 KiB records; their ciphertext is gathered in the loop's
    /// 64 KiB send buffer and sent when the next record might not fit, so a burst (a fan-out
    /// to a thousand streams) costs one `send` per ~48 KiB rather than one per record (on
    /// loopback each `send` also runs the receiver's TCP input: a few µs apiece). Memory stays
    /// bounded as before: the TLS write BIO holds at most one record, the send buffer is
    /// shared by the loop's connections, and only what the socket refuses goes to `pending`.
    func flushPending() {
        dirtyMarked = false
        if closed { return }

        // Socket backpressure: while the kernel has not taken the backlog, leave frames in nghttp2
        // and the streams' bounded buffers (writers then see "full"); EPOLLOUT resumes us.
        if pending.count - pendingOffset > Connection.maxBacklog { return }
        withSendBuffer { buf in
            if let s = session {
                let out = loop.outBuffer
                var used = 0
                var staged = 0
                // Once the socket backlog passes `maxBacklog`, nghttp2 stops producing; EPOLLOUT
                // (writeOut, then flushPending) resumes it.
                func sink(_ chunk: UnsafeRawBufferPointer) -> Bool {
                    var c = chunk
                    while c.count > 0 {
                        let take = min(c.count, out.count - used)
                        (out.baseAddress! + used).copyMemory(from: c.baseAddress!, byteCount: take)
                        used += take
                        c = UnsafeRawBufferPointer(rebasing: c[take...])
                        if used == out.count {
                            staged = self.seal(out.baseAddress!, used, buf, staged); used = 0
                            if self.closed { return false }
                        }
                    }
                    return self.pending.count - self.pendingOffset <= Connection.maxBacklog
                }
                // HTTP/2 (gRPC's hot path) is called on the concrete class, so the sink is
                // specialized into its produce loop rather than called through a protocol witness.
                let ok = h2Session?.produceWhile(sink) ?? s.produceWhile(sink)
                if closed { return }
                if used > 0 { staged = seal(out.baseAddress!, used, buf, staged) }
                staged = stageCiphertext(buf, staged)
                if staged > 0 { sendStaged(buf, staged) }
                if closed { return }
                if !ok { flushCiphertext(buf); close(); return }
            }
            flushCiphertext(buf)
            if let s = session, !(h2Session?.isAlive ?? s.isAlive), pending.count - pendingOffset == 0 { close(); return }
        }
        // Quiescent over TLS 1.3 (HTTP/1.1 or HTTP/2): let the compact record layer take over (frees the SSL).
        if tls.awaitsRecordLayer && session != nil && tls.switchToRecordLayer() {
            HeapTrim.released(TLSEngine.releasedBySwitch, on: loop)
        }
        if inputStalled, let s = session, s.wantsInput {
            // The handler takes input again: decrypt what TLS holds (its output is flushed on the
            // next round), then read the socket again.
            inputStalled = false
            process()
            if closed { return }
            updateInterest()
            markDirty()
        }
        armDeadline()
    }

    /// Arms the timer for the handler's next deadline when it is earlier than the one armed (a
    /// later one is found when the armed timer fires: the handler ignores early calls).
    private func armDeadline() {
        guard !closed, let s = session, let d = h2Session?.nextDeadline ?? s.nextDeadline else { return }
        if deadlineTimer != nil && d >= armedDeadline { return }
        if let t = deadlineTimer { loop.cancelTimer(t) }
        armedDeadline = d
        let now = monotonicNanos()
        deadlineTimer = loop.scheduleTimer(afterNanos: d > now ? d - now : 0) { [self] in
            self.deadlineTimer = nil
            guard !self.closed, let s = self.session else { return }
            s.deadlineReached(now: monotonicNanos())
            self.flushPending()
        }
    }

    /// Runs `body` with the loop's send buffer, or with a temporary one when a flush of another
    /// connection on this loop holds it (a callback inside that flush started this one).
    private func withSendBuffer(_ body: (UnsafeMutableRawBufferPointer) -> Void) {
        if loop.sendBufferInUse {
            let tmp = UnsafeMutableRawBufferPointer.allocate(byteCount: loop.sendBuffer.count, alignment: 16)
            defer { tmp.deallocate() }
            body(tmp)
            return
        }
        loop.sendBufferInUse = true
        defer { loop.sendBufferInUse = false }
        body(loop.sendBuffer)
    }

    /// One TLS record's worth of ciphertext at most (16 KiB plaintext + AEAD overhead), with room.
    private static let recordRoom = 16384 + 512

    /// Encrypts `n` plaintext bytes (at most one record's worth) into `buf` after the `staged`
    /// bytes already there, sending those first when the record might not fit; returns the new
    /// staged count. On the compact record layer the record is sealed in place there; on OpenSSL
    /// it goes through the write BIO (`stageCiphertext`).
    private func seal(_ p: UnsafeRawPointer, _ n: Int, _ buf: UnsafeMutableRawBufferPointer, _ staged: Int) -> Int {
        var staged = staged
        if tls.records != nil && tls.pendingCiphertext == 0 {
            if buf.count - staged < Connection.recordRoom {
                sendStaged(buf, staged); staged = 0
                if closed { return 0 }
            }
            if let k = tls.writePlaintext(p, n, into: buf.baseAddress! + staged, cap: buf.count - staged) { return staged + k }
        }
        _ = tls.writePlaintext(p, n)
        return stageCiphertext(buf, staged)
    }

    /// Moves the TLS engine's ciphertext into `buf` after the `staged` bytes already there,
    /// sending those first whenever another record might not fit. Returns the new staged count
    /// (bytes in `buf` not yet sent).
    private func stageCiphertext(_ buf: UnsafeMutableRawBufferPointer, _ staged: Int) -> Int {
        var staged = staged
        while !closed && tls.pendingCiphertext > 0 {
            if buf.count - staged < Connection.recordRoom {
                sendStaged(buf, staged); staged = 0
                if closed { return 0 }
            }
            let n = tls.takeCiphertext(into: buf.baseAddress! + staged, cap: buf.count - staged)
            if n == 0 { break }
            staged += n
        }
        return staged
    }

    /// Sends the first `n` bytes of `buf` (what the socket does not take, and everything while a
    /// backlog waits, goes to `pending`).
    private func sendStaged(_ buf: UnsafeMutableRawBufferPointer, _ n: Int) {
        if pending.count - pendingOffset > 0 {
            pending.append(contentsOf: UnsafeRawBufferPointer(start: buf.baseAddress!, count: n).assumingMemoryBound(to: UInt8.self))
            return
        }
        let w = Glibc.send(fd, buf.baseAddress!, n, Int32(MSG_NOSIGNAL))
        if w == n { return }
        if w < 0 && errno != EAGAIN && errno != EINTR { close(); return }
        let written = max(0, w)
        pending.append(contentsOf: UnsafeRawBufferPointer(start: buf.baseAddress! + written, count: n - written).assumingMemoryBound(to: UInt8.self))
    }

    private func flushCiphertext(_ buf: UnsafeMutableRawBufferPointer) {
        while !closed && tls.pendingCiphertext > 0 {
            let n = tls.takeCiphertext(into: buf.baseAddress!, cap: buf.count)
            if n == 0 { break }
            sendStaged(buf, n)
        }
        updateInterest()
    }

    private func writeOut() {
        while pending.count - pendingOffset > 0 {
            let w = pending.withUnsafeBytes { p in
                Glibc.send(fd, p.baseAddress! + pendingOffset, p.count - pendingOffset, Int32(MSG_NOSIGNAL))
            }
            if w > 0 { pendingOffset += w; continue }
            if w < 0 && (errno == EAGAIN || errno == EINTR) { break }
            close(); return
        }
        if pendingOffset == pending.count { pending.removeAll(keepingCapacity: false); pendingOffset = 0 }
        updateInterest()
    }

    private func updateInterest() {
        if closed { return }
        let backlog = pending.count - pendingOffset
        let wantW = backlog > 0
        let pauseR = backlog > Connection.maxPending || inputStalled
        if wantW != writeInterest || pauseR != readPaused {
            writeInterest = wantW; readPaused = pauseR
            loop.modify(fd: fd, token: token, readable: !pauseR, writable: wantW)
        }
    }

    /// Starts a graceful shutdown (HTTP/2: GOAWAY); the connection closes once its streams are done.
    func beginGracefulShutdown() {
        guard let s = session else { close(); return }
        s.beginGracefulShutdown()
        flushPending()
    }

    /// Closes now: streams still open see `streamClosed` (connection lost).
    func close() {
        if closed { return }
        closed = true
        if let t = deadlineTimer { loop.cancelTimer(t) }
        if let t = handshakeTimer { loop.cancelTimer(t) }
        loop.deregister(fd: fd, token: token)
        Glibc.close(fd)
        if let s = session {
            s.onNeedsFlush = nil
            s.onIdleWork = nil
            s.connectionClosed()
        }
        session = nil
        h2Session = nil
        onClose?(self)
        onClose = nil
        onEstablished = nil
    }
}

extension Connection: EventLoopTask {
    /// Idle work (see `ConnectionProtocolHandler.onIdleWork`), e.g. letting go of closed streams.
    func runOnLoop() { session?.releaseIdle() }
}

/// Formats a socket address as "ip:port" / "[ip]:port".
func formatAddress(_ storage: UnsafePointer<sockaddr_storage>) -> String {
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    var port: UInt16 = 0
    let family = Int32(storage.pointee.ss_family)
    if family == AF_INET {
        storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var a = sin.pointee.sin_addr
            inet_ntop(AF_INET, &a, &host, socklen_t(host.count))
            port = UInt16(bigEndian: sin.pointee.sin_port)
        }
        return "\(text(ofCString: host)):\(port)"
    } else if family == AF_INET6 {
        storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
            var a = sin.pointee.sin6_addr
            inet_ntop(AF_INET6, &a, &host, socklen_t(host.count))
            port = UInt16(bigEndian: sin.pointee.sin6_port)
        }
        return "[\(text(ofCString: host))]:\(port)"
    }
    return "unknown"
}

/// The text of a NUL-terminated C string held in `chars` (everything before the first NUL).
func text(ofCString chars: [CChar]) -> String {
    String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
