/// A WebSocket on one HTTP/2 stream (RFC 8441): the same `WebSocketSession` that runs on an
/// upgraded HTTP/1.1 connection, with the stream's DATA as its bytes in and out.
///
/// - In: every DATA payload of the stream goes to `WebSocketSession.receive` (client frames, masked,
///   as on HTTP/1.1: RFC 8441 §5 keeps RFC 6455 framing unchanged).
/// - Out: when the session has frames (`onNeedsFlush`) the WebSocket is marked in its connection's
///   `HTTP2WebSocketSet`, and just before the session next produces, its frames are queued on the
///   stream by reference (no copy of a frame shared by a fan-out; a message and the close after it
///   go together). nghttp2 drains them as flow control allows; queueing stops while the stream
///   holds `limit` bytes or more and resumes when it drained to half (`streamWritable`), so the
///   session's own bounded queue is what the application sees as "not writable".
/// - End: once the closing handshake is done the stream ends with END_STREAM (RFC 8441 §5: the
///   orderly close of the "TCP connection"); if the peer then has not ended its side within the
///   close wait, or the session failed (close wait over, pong timeout), the stream is reset with
///   CANCEL. A peer that ends or resets its side without a close frame is a lost connection (1006)
///   to the application.
/// - Timers: the ping interval and pong wait run on one loop timer per WebSocket (holding it
///   strongly until `finished` cancels it), armed when the deadline moves earlier (not re-armed
///   for a later one: it then fires, finds nothing due and re-arms); the close wait runs on the
///   connection's shared FIFO (`closeWaitStarted`).
///
/// Owned by the stream's `HTTP2ResponseWriter` and the connection's `HTTP2WebSocketSet`; loop
/// thread only.
final class HTTP2WebSocketStream {
    /// Where the stream stands.
    enum State {
        case open
        /// Our side ended (END_STREAM sent, or will be after the buffered bytes); waiting for the peer's.
        case localEnded
        /// The stream is over (closed, reset, or the connection is gone).
        case done
    }

    let stream: HTTP2Stream
    let socket: WebSocketSession
    /// Unowned without reference counting: the set outlives every use (a stream stops using it
    /// in `finished`, which comes before the connection lets go of the set).
    private unowned(unsafe) let set: HTTP2WebSocketSet
    private let loop: EventLoop
    private let limit: Int
    private var state = State.open
    private var remoteEnded = false
    private var dirty = false
    private var closeWaitQueued = false
    private var timer: EventLoopTimer?
    private var timerAt: UInt64?

    init(stream: HTTP2Stream, socket: WebSocketSession, set: HTTP2WebSocketSet, loop: EventLoop, limit: Int) {
        self.stream = stream; self.socket = socket; self.set = set; self.loop = loop; self.limit = limit
        // Cleared in `finished`, before this object can go: no reference counting per message.
        socket.onNeedsFlush = { [unowned(unsafe) self] in self.needsFlush() }
        set.add(self)
        armTimer()
    }

    /// A DATA payload of the stream.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard case .open = state else { return }
        if !socket.receive(bytes) { fail() } else { needsFlush() }
    }

    /// The peer ended its side (END_STREAM). After its close frame that is the orderly end;
    /// without one, the connection is lost (1006).
    func peerEnded() {
        remoteEnded = true
        switch state {
        case .open:
            if socket.isAlive && socket.state != .closed { socket.connectionClosed(); fail(); return }
            needsFlush()
        case .localEnded:
            finished()
        case .done:
            break
        }
    }

    /// The stream's outbound buffer drained to half: queue more frames.
    func writable() { needsFlush() }

    /// The stream is gone (reset by either side, completed, or the connection closed).
    func streamClosed() {
        if case .done = state { return }
        finished()
        socket.connectionClosed()
    }

    /// Deadlines may have passed (a timer of this WebSocket, or the connection's close-wait FIFO).
    func deadlinesDue(now: UInt64) {
        guard case .open = state else { return }
        socket.deadlineReached(now: now)
        needsFlush()
    }

    private func needsFlush() {
        guard !dirty, case .open = state else { return }
        dirty = true
        set.markDirty(self, session: stream.session)
        stream.session.needsFlush()
    }

    /// Queues the session's frames on the stream while it holds less than `limit`; ends the stream
    /// once the session is over (`HTTP2WebSocketSet.flushDirty`, before the session produces).
    func flush() {
        dirty = false
        guard case .open = state else { return }
        let alive = socket.produceFrames { frame in
            stream.write(frame)   // by reference: a fan-out's shared frame is not copied
            return stream.bufferedBytes < limit
        }
        if stream.bufferedBytes >= limit { stream.notifyWhenBuffered(atMost: limit / 2) }
        guard alive, socket.isAlive else {
            if !alive || socket.state == .failed { fail(); return }
            // The closing handshake is complete: END_STREAM after what is buffered.
            state = .localEnded
            stream.finish(trailers: nil)
            if remoteEnded { finished() } else { queueCloseWait() }
            return
        }
        if case .closeSent = socket.state { queueCloseWait() } else { armTimer() }
    }

    /// The session must end at once: reset the stream.
    private func fail() {
        guard state != .done else { return }
        finished()
        socket.connectionClosed()
        stream.reset(errorCode: 8)
    }

    private func finished() {
        state = .done
        if let t = timer { loop.cancelTimer(t); timer = nil }
        timerAt = nil
        socket.onNeedsFlush = nil
        set.remove(self)
    }

    /// Our close frame went out (or our END_STREAM): the peer has the close wait to answer, on the
    /// connection's FIFO.
    private func queueCloseWait() {
        guard !closeWaitQueued else { return }
        closeWaitQueued = true
        set.closeWaitStarted(self, deadline: monotonicNanos() &+ socket.configuration.closeWaitNanos)
    }

    /// Keeps this WebSocket's timer at or before the session's next ping or pong deadline.
    private func armTimer() {
        guard let next = socket.nextDeadline else { return }
        if let at = timerAt, at <= next { return }
        if let t = timer { loop.cancelTimer(t) }
        timerAt = next
        let now = monotonicNanos()
        // Strongly: a weak reference would give this object a side table, and every retain of it
        // (one per message in a fan-out) would take the runtime's slow path. `finished` cancels
        // the timer, which lets go of the closure and so of the cycle.
        timer = loop.scheduleTimer(afterNanos: next > now ? next - now : 0) {
            self.timer = nil; self.timerAt = nil
            self.deadlinesDue(now: monotonicNanos())   // its flush re-arms
        }
    }

    /// The close wait that began with our close frame is over (the connection's FIFO): a session
    /// still waiting for the peer's close frame fails; a stream whose END_STREAM went out but whose
    /// peer never ended its side is reset.
    func closeWaitDue(now: UInt64) {
        switch state {
        case .open: deadlinesDue(now: now)
        case .localEnded: finished(); stream.reset(errorCode: 8)
        case .done: break
        }
    }
}
