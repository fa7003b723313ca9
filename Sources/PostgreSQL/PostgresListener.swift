import Locks
import Foundation

/// A thread that LISTENs on channels of one database and hands what it hears to `onChange`.
///
/// Contract: `onChange` runs on the listener's thread, one call at a time, with the
/// notifications received (oldest first), or with none after `pollSeconds` without any and after
/// a lost session was replaced: notifications sent while no session listened are gone, so a
/// caller treats an empty call as "something may have changed" and catches up from its store.
/// The session is its own (LISTEN needs one that is not shared with statements of others).
public final class PostgresListener: @unchecked Sendable {
    private let db: PostgresConnection
    private let pollSeconds: Double
    private let onChange: @Sendable ([PostgresNotification]) -> Void
    private let lock = Lock()
    private var stopping = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// Connects and LISTENs on `channels` (names as `PostgresConnection.listen` takes them);
    /// `start` runs the thread.
    public init(dsn: String, options: PostgresConnection.Options, channels: [String], pollSeconds: Double = 1,
                onChange: @escaping @Sendable ([PostgresNotification]) -> Void) throws(PostgresError) {
        db = try PostgresConnection(dsn: dsn, options: options)
        for c in channels { try db.listen(c) }
        self.pollSeconds = pollSeconds
        self.onChange = onChange
    }

    deinit { stop() }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "pg-listener"
        lock.withLock { thread = t }
        t.start()
    }

    /// Stops the thread (within about `pollSeconds`) and waits for it. Idempotent.
    public func stop() {
        let running = lock.withLock { () -> Bool in
            defer { stopping = true; thread = nil }
            return thread != nil && !stopping
        }
        if running && Thread.current.name != "pg-listener" { finished.wait() }
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func run() {
        while !isStopping {
            do {
                let heard = try db.notifications(timeout: pollSeconds)
                if isStopping { break }
                onChange(heard)
            } catch {
                // Lost: the next round reconnects (re-LISTENing) and its call makes the caller catch up.
                usleep(200_000)
            }
        }
        db.close()
        finished.signal()
    }
}
