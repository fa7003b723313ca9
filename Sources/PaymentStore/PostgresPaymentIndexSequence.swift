import Locks
import Payments
import PostgreSQL

/// Payment indexes from the database sequence `payment_index_seq` (`PaymentIndexSource`), so
/// replicas writing one payments schema never hand out the same index, and indexes follow the
/// order in which payments were created across all of them.
///
/// Group allocation, as the writer's group commit: one caller at a time fetches, for itself and
/// every caller that queued meanwhile, that many values in one round trip
/// (`nextval … FROM generate_series`); the others take theirs from that batch. Idle, that is one
/// value per payment; under load, one round trip per batch. Values are handed out in the order
/// fetched. Values of a batch never handed out (the process stopped) are gaps, as refused inits
/// are; LND's sequence has gaps too (deleted payments).
public final class PostgresPaymentIndexSequence: PaymentIndexSource, @unchecked Sendable {
    private let db: PostgresConnection
    private let condition = Condition()
    private var available: [UInt64] = []
    private var head = 0
    private var fetching = false
    private var waiting = 0
    /// Most values fetched in one round trip.
    static let maxBatch = 1_024

    public init(store: PostgresPaymentStore.Options) throws(PaymentError) {
        do {
            db = try PostgresConnection(dsn: store.dsn, options: PostgresPaymentStore.sessionOptions(store, role: "sequence"))
        } catch {
            throw .storage(String(describing: error))
        }
    }

    public func nextPaymentIndex() throws(PaymentError) -> UInt64 {
        condition.lock.lock()
        defer { condition.lock.unlock() }
        while true {
            if head < available.count {
                head += 1
                return available[head - 1]
            }
            if !fetching {
                fetching = true
                let n = min(Self.maxBatch, waiting + 1)
                condition.lock.unlock()
                var values: [UInt64] = []
                var failure: PaymentError?
                do { values = try fetch(n) } catch { failure = error }
                condition.lock.lock()
                fetching = false
                condition.broadcast()
                if let failure { throw failure }
                available = values
                head = 0
                continue
            }
            waiting += 1
            condition.wait()
            waiting -= 1
        }
    }

    /// Called by the one fetching caller only (outside the lock).
    private func fetch(_ n: Int) throws(PaymentError) -> [UInt64] {
        do {
            let r = try db.query("SELECT nextval('payment_index_seq') FROM generate_series(1, $1::int8)", [.int64(Int64(n))])
            return try (0..<r.count).map { i throws(PostgresError) in UInt64(bitPattern: try r.int64(i, 0)) }
        } catch {
            throw .storage(String(describing: error))
        }
    }
}
