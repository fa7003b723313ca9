/// The WebSockets (RFC 8441 streams, `HTTP2WebSocketStream`) of one h2 connection of an HTTP
/// listener, and the per-connection work that keeps a burst cheap when a fan-out reaches thousands
/// of them in one turn of the loop (a payment many watch settles: a message and a close each):
///
/// - Frames are handed to the streams once per `HTTP2Session.produceWhile`, not once per message:
///   a WebSocket with new frames is only marked (`markDirty`), and `flushDirty` (the session's
///   `beforeProduce`, run just before it asks nghttp2 for frames) queues each one's frames on its
///   stream.
/// - The wait for the peer's close frame after ours is the same for every WebSocket
///   (`WebSocketConfiguration.closeWaitNanos`), so those deadlines arrive in order: a FIFO and one
///   loop timer serve them all (`closeWaitStarted`), instead of a timer per WebSocket.
/// - A server drain closes every open WebSocket with 1001 (`drain`).
///
/// Owned by the connection's `HTTP2ApplicationAdapter`; loop thread only.
final class HTTP2WebSocketSet {
    private let loop: EventLoop
    /// Open WebSockets by identity; each leaves when its stream closes.
    private(set) var open: [ObjectIdentifier: HTTP2WebSocketStream] = [:]
    private var dirty: [HTTP2WebSocketStream] = []
    /// Close-wait deadlines in order (one constant wait after each close), from `closeWaitHead`.
    private var closeWaits: [(at: UInt64, id: ObjectIdentifier)] = []
    private var closeWaitHead = 0
    private var timer: EventLoopTimer?

    init(loop: EventLoop) { self.loop = loop }

    func add(_ ws: HTTP2WebSocketStream) { open[ObjectIdentifier(ws)] = ws }

    func remove(_ ws: HTTP2WebSocketStream) { open[ObjectIdentifier(ws)] = nil }

    /// `ws` has frames for its stream: they are queued at `session`'s next `produceWhile`.
    func markDirty(_ ws: HTTP2WebSocketStream, session: HTTP2Session) {
        if dirty.isEmpty && session.beforeProduce == nil {
            // The set lives as long as the session's delegate (the adapter), which outlives this.
            session.beforeProduce = { [unowned(unsafe) self] in self.flushDirty() }
        }
        dirty.append(ws)
    }

    /// Queues every marked WebSocket's frames on its stream (the session is about to produce).
    func flushDirty() {
        while !dirty.isEmpty {
            let d = dirty
            dirty = []
            for ws in d { ws.flush() }
        }
    }

    /// `ws` sent its close frame; its close wait ends at `deadline`.
    func closeWaitStarted(_ ws: HTTP2WebSocketStream, deadline: UInt64) {
        closeWaits.append((deadline, ObjectIdentifier(ws)))
        if timer == nil { arm() }
    }

    /// The server drains: every WebSocket closes with 1001, as on HTTP/1.1.
    func drain() {
        for ws in open.values { ws.socket.close(code: 1001, reason: "server shutting down") }
    }

    /// The connection is gone.
    func closeAll() {
        if let t = timer { loop.cancelTimer(t); timer = nil }
        closeWaits = []; closeWaitHead = 0
        dirty = []
    }

    private func arm() {
        guard closeWaitHead < closeWaits.count else {
            closeWaits = []; closeWaitHead = 0
            return
        }
        let at = closeWaits[closeWaitHead].at, now = monotonicNanos()
        timer = loop.scheduleTimer(afterNanos: at > now ? at - now : 0) { [weak self] in self?.closeWaitsDue() }
    }

    private func closeWaitsDue() {
        timer = nil
        let now = monotonicNanos()
        while closeWaitHead < closeWaits.count && closeWaits[closeWaitHead].at <= now {
            // A WebSocket that ended in the meantime is no longer `open` (an identity reused by a
            // newer one only gets a check of its own deadlines, which changes nothing early).
            open[closeWaits[closeWaitHead].id]?.closeWaitDue(now: now)
            closeWaitHead += 1
        }
        if closeWaitHead > 1024 && closeWaitHead * 2 > closeWaits.count {
            closeWaits.removeFirst(closeWaitHead); closeWaitHead = 0
        }
        arm()
    }
}
