import Locks
import Dispatch
import RPCCore

/// Runs handler work that may block (SQLite reads and commits) off the event loops, with a bound
/// on how much may wait: past `limit` queued jobs a call is refused with RESOURCE_EXHAUSTED rather
/// than queued (nothing queues without a limit).
public final class BlockingWork: @unchecked Sendable {
    private let queue = DispatchQueue(label: "paytrack.blocking", attributes: .concurrent)
    private let pending = LockedValue(0)
    public let limit: Int

    public init(limit: Int = 4096) { self.limit = limit }

    /// Schedules `job`; returns false (and runs nothing) when `limit` jobs are already waiting.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted: Bool = pending.withLock { pending in
            guard pending < limit else { return false }
            pending += 1
            return true
        }
        guard accepted else { return false }
        queue.async { [self] in
            job()
            pending.withLock { $0 -= 1 }
        }
        return true
    }

    /// The status a call gets when `submit` refused it.
    public static let busy = GRPCStatus(.resourceExhausted, "server busy: too many requests waiting")
}
