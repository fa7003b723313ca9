/// `HTTP2Session` as the protocol of an `h2` connection, with the server keepalive (grpc-go's
/// keepalive.ServerParameters, LND's values in `HTTP2Configuration`): every `keepaliveTime`, a
/// session idle for that long sends a PING; unacknowledged within `keepaliveTimeout`, the session
/// ends (`isAlive` false) and the connection closes.
extension HTTP2Session: ConnectionProtocolHandler {
    public var onIdleWork: (() -> Void)? {
        get { onStreamsToRelease }
        set { onStreamsToRelease = newValue }
    }

    public func releaseIdle() { releaseClosedStreams() }

    /// nghttp2 bounds its input by flow control: always true.
    public var wantsInput: Bool { true }

    public var nextDeadline: UInt64? {
        guard isServer, !wantsClose else { return nil }
        if let t = pingTimeoutAt { return min(t, keepaliveCheckAt) }
        return keepaliveCheckAt
    }

    public func deadlineReached(now: UInt64) {
        guard isServer, !wantsClose else { return }
        if let t = pingTimeoutAt, now >= t {
            pingTimeoutAt = nil
            if !pingAcked { terminate(errorCode: 0); return }
        }
        if now >= keepaliveCheckAt {
            if now &- lastFrameReceived >= configuration.keepaliveTimeNanos && pingTimeoutAt == nil {
                sendPing()
                pingTimeoutAt = now &+ configuration.keepaliveTimeoutNanos
            }
            keepaliveCheckAt = now &+ configuration.keepaliveTimeNanos
        }
    }

    public func connectionClosed() { closeAllStreams(errorCode: 0) }
}
