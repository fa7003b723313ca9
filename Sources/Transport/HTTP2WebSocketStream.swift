/// A WebSocket on one HTTP/2 stream (RFC 8441): the same `WebSocketSession` that runs on an
/// upgraded HTTP/1.1 connection, with the stream's DATA as its bytes in and out.
///
/// - In: every DATA payload of the stream goes to `WebSocketSession.receive` (client frames, masked,
///   as on HTTP/1.1: RFC 8441 §5 keeps RFC 6455 framing unchanged).
/// - Out: whenever the session has frames (`onNeedsFlush`), they are copied into the stream's
///   outbound buffer, which nghttp2 drains as flow control allows; the copy stops while that buffer
///   holds `limit` bytes or more and resumes when it drained to half (`streamWritable`), so the
///   session's own bounded queue is what the application sees as "not writable".
/// - End: once the closing handshake is done the stream ends with END_STREAM (RFC 8441 §5: the
///   orderly close of the "TCP connection"); if the peer then has not ended its side within the
///   close wait, or the session failed (close wait over, pong timeout answered and unanswered), the
///   stream is reset with CANCEL. A peer that ends or resets its side without a close frame is a
///   lost connection (1006) to the application.
/// - Timers: the session's `nextDeadline` (ping interval, pong wait, close wait) is kept armed on the
///   loop, one timer per stream, re-armed only when the deadline changes.
///
/// Owned by the stream's `HTTP2ResponseWriter`; loop thread only.
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
    private let loop: EventLoop
    private let limit: Int
    private var state = State.open
    private var remoteEnded = false
    private var timer: EventLoopTimer?
    private var armedAt: UInt64?

    init(stream: HTTP2Stream, socket: WebSocketSession, loop: EventLoop, limit: Int) {
        self.stream = stream; self.socket = socket; self.loop = loop; self.limit = limit
        socket.onNeedsFlush = { [unowned self] in self.flush() }
        arm()
    }

    /// A DATA payload of the stream.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard case .open = state else { return }
        if !socket.receive(bytes) { fail(); return }
        flush()
    }

    /// The peer ended its side (END_STREAM). After its close frame that is the orderly end;
    /// without one, the connection is lost (1006).
    func peerEnded() {
        remoteEnded = true
        switch state {
        case .open:
            if socket.isAlive && socket.state != .closed { socket.connectionClosed(); fail(); return }
            flush()
        case .localEnded:
            finished()
        case .done:
            break
        }
    }

    /// The stream's outbound buffer drained to half: copy more frames.
    func writable() { flush() }

    /// The stream is gone (reset by either side, completed, or the connection closed).
    func streamClosed() {
        if case .done = state { return }
        finished()
        socket.connectionClosed()
    }

    /// Copies the session's frames into the stream while its buffer is under `limit`; ends the
    /// stream once the session is over.
    private func flush() {
        guard case .open = state else { return }
        let alive = socket.produceWhile { bytes in
            stream.write(bytes)
            return stream.bufferedBytes < limit
        }
        if stream.bufferedBytes >= limit { stream.notifyWhenBuffered(atMost: limit / 2) }
        guard alive, socket.isAlive else {
            if !alive || socket.state == .failed { fail(); return }
            // The closing handshake is complete: END_STREAM after what is buffered.
            state = .localEnded
            stream.finish(trailers: nil)
            if remoteEnded { finished() } else { armCloseWait() }
            return
        }
        arm()
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
        armedAt = nil
        socket.onNeedsFlush = nil
    }

    /// Keeps one loop timer armed at the session's next deadline.
    private func arm() {
        let next = socket.nextDeadline
        guard next != armedAt else { return }
        if let t = timer { loop.cancelTimer(t); timer = nil }
        armedAt = next
        guard let at = next else { return }
        let now = monotonicNanos()
        timer = loop.scheduleTimer(afterNanos: at > now ? at - now : 0) { [weak self] in
            guard let self, case .open = self.state else { return }
            self.timer = nil; self.armedAt = nil
            self.socket.deadlineReached(now: monotonicNanos())
            self.flush()
        }
    }

    /// After our END_STREAM, the peer gets the session's close wait to end its side.
    private func armCloseWait() {
        timer = loop.scheduleTimer(afterNanos: socket.configuration.closeWaitNanos) { [weak self] in
            guard let self, case .localEnded = self.state else { return }
            self.timer = nil
            self.finished()
            self.stream.reset(errorCode: 8)
        }
    }
}
