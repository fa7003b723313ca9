import Locks
import Payments

/// The reader sessions of a payment store (SQLite read connections, PostgreSQL sessions): at most
/// `limit` open, handed out one caller at a time, kept for reuse after a successful read.
///
/// Contract: `with` waits while every session is busy and the limit is reached; a session whose
/// body threw is dropped (it may be mid-transaction); when `isLost` says the error was a session
/// that turned out dead before the read ran (server restart), the read runs once more on a fresh
/// session (reads are idempotent). After `close`, `with` throws `storeClosed`.
final class PaymentSessionPool<Session>: @unchecked Sendable {
    private let condition = Condition()
    private var idle: [Session] = []
    private var open = 0
    private let limit: Int
    private var closed = false
    private let connect: () throws -> Session
    private let isLost: (any Error) -> Bool

    init(limit: Int, connect: @escaping () throws -> Session, isLost: @escaping (any Error) -> Bool = { _ in false }) {
        self.limit = max(1, limit)
        self.connect = connect
        self.isLost = isLost
    }

    func with<R>(_ body: (Session) throws -> R) throws(PaymentError) -> R {
        condition.lock.lock()
        while idle.isEmpty && open >= limit && !closed { condition.wait() }
        if closed {
            condition.lock.unlock()
            throw .storeClosed
        }
        var session = idle.popLast()
        if session == nil { open += 1 }
        condition.lock.unlock()
        var retried = false
        while true {
            do {
                if session == nil {
                    retried = true
                    session = try connect()
                }
                let r = try body(session!)
                condition.lock.withLock { idle.append(session!); condition.signal() }
                return r
            } catch where isLost(error) && !retried {
                session = nil
            } catch {
                condition.lock.withLock { open -= 1; condition.signal() }
                if let e = error as? PaymentError { throw e }
                throw .storage(String(describing: error))
            }
        }
    }

    /// Drops the idle sessions and fails later `with` calls; true the first time.
    func close() -> Bool {
        condition.lock.withLock {
            defer {
                closed = true
                idle.removeAll()
                condition.broadcast()
            }
            return !closed
        }
    }
}
