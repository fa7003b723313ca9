import Transport

/// Moves bytes between a socketless client and server session (both on `loop`, this thread) and
/// runs the loop's tasks, until nothing moves (at most 50 rounds).
func pumpSessions(_ client: HTTP2Session, _ server: HTTP2Session, _ loop: EventLoop) {
    for _ in 0..<50 {
        var moved = false
        client.produce { moved = true; server.receive($0) }
        server.produce { moved = true; client.receive($0) }
        loop.runPendingTasks()
        if !moved { return }
    }
}
