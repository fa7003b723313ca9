#if canImport(Glibc)
import Locks
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Payments

/// The single writer of a payments database: a thread that drains a queue of changes and
/// commits them in groups (group commit): up to `maxBatch` queued items go into one
/// transaction of the backend (`PaymentTransactor`: SQLite's `BEGIN IMMEDIATE … COMMIT`,
/// PostgreSQL's `BEGIN … COMMIT`), then their completions run in order. Under light load a batch is
/// one item (no added latency); under heavy load one fsync covers many changes.
///
/// Before the transaction, the backend may refuse items on its own (`refusedInits`: inits of
/// hashes already stored); they fail alone and the rest commit. If a batch fails, it is rolled
/// back and its items are retried one per transaction, so one bad item fails alone. The queue
/// itself is bounded by `PaymentControl`'s admission.
final class PaymentWriter: @unchecked Sendable {
    typealias Completion = @Sendable (PaymentError?, Int) -> Void
    private struct Item {
        var writes: [PaymentWrite]
        var completion: Completion
    }

    private let backend: any PaymentTransactor
    private let maxBatch: Int
    private let condition = Condition()
    private var queue: [Item] = []
    private var stopping = false
    private var writerIdle = false
    private var flushWaiters = 0
    private var submitted: UInt64 = 0
    private var completed: UInt64 = 0
    private var thread: pthread_t?
    /// Batches committed and items written (statistics for benchmarks).
    private(set) var batches: UInt64 = 0
    /// Told of each committed batch (duration, size); read under `condition.lock`.
    private var commitObserver: CommitObserver?

    func observeCommits(_ observer: @escaping CommitObserver) {
        condition.lock.withLock { commitObserver = observer }
    }

    /// Meta counters as of the last commit (read under `condition.lock`).
    private(set) var maxPaymentIndex: UInt64
    private(set) var maxUpdateNs: Int64
    private var paymentCount: Int64

    init(backend: any PaymentTransactor, maxBatch: Int, maxPaymentIndex: UInt64, maxUpdateNs: Int64, paymentCount: Int64) {
        self.backend = backend
        self.maxBatch = maxBatch
        self.maxPaymentIndex = maxPaymentIndex
        self.maxUpdateNs = maxUpdateNs
        self.paymentCount = paymentCount
    }

    /// With the counters of the store's `payment_meta` table (`max_payment_index`, `max_update_ns`,
    /// `payment_count`; absent ones are 0), as both stores read it at open; `maxBatch` at least 1.
    convenience init(backend: any PaymentTransactor, maxBatch: Int, meta: [String: Int64]) {
        self.init(backend: backend, maxBatch: max(1, maxBatch),
                  maxPaymentIndex: UInt64(bitPattern: meta["max_payment_index"] ?? 0),
                  maxUpdateNs: meta["max_update_ns"] ?? 0, paymentCount: meta["payment_count"] ?? 0)
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { ctx in
            let writer = Unmanaged<PaymentWriter>.fromOpaque(ctx!).takeRetainedValue()
            writer.run()
            return nil
        }, box)
        precondition(rc == 0, "cannot start the payments writer thread")
        condition.lock.withLock { thread = tid }
    }

    var isWriterThread: Bool {
        guard let t = condition.lock.withLock({ thread }) else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    func submit(_ writes: [PaymentWrite], completion: @escaping Completion) {
        condition.lock.lock()
        if stopping {
            condition.lock.unlock()
            completion(.storeClosed, 0)
            return
        }
        queue.append(Item(writes: writes, completion: completion))
        submitted += 1
        if writerIdle { condition.broadcast() }
        condition.lock.unlock()
    }

    /// Waits until everything submitted before the call has completed.
    func flush() {
        condition.lock.lock()
        let target = submitted
        flushWaiters += 1
        while completed < target { condition.wait() }
        flushWaiters -= 1
        condition.lock.unlock()
    }

    var count: Int64 { condition.lock.withLock { paymentCount } }

    /// Stops after draining the queue, and joins the thread.
    func stop() {
        condition.lock.lock()
        stopping = true
        condition.broadcast()
        let t = thread
        condition.lock.unlock()
        if let t, pthread_equal(t, pthread_self()) == 0 { pthread_join(t, nil) }
    }

    private func run() {
        while true {
            condition.lock.lock()
            while queue.isEmpty && !stopping {
                writerIdle = true
                condition.wait()
                writerIdle = false
            }
            if queue.isEmpty && stopping {
                condition.lock.unlock()
                return
            }
            let n = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(n))
            queue.removeFirst(n)
            let observer = commitObserver
            condition.lock.unlock()
            let started = ContinuousClock.now

            var results = [(PaymentError?, Int)](repeating: (nil, 0), count: batch.count)
            var meta: PaymentMeta = (maxPaymentIndex, maxUpdateNs, paymentCount)
            do {
                // Inits of hashes already stored fail alone, before the transaction.
                let refused = try backend.refusedInits(batch.map(\.writes))
                for (i, e) in refused { results[i] = (e, 0) }
                if refused.count < batch.count {
                    try backend.inTransaction {
                        for (i, item) in batch.enumerated() where refused[i] == nil {
                            results[i].1 = try backend.apply(item.writes, &meta)
                        }
                        try backend.saveMeta(meta)
                    }
                }
                if let observer { observer(UInt64(max(0, started.duration(to: .now) / .nanoseconds(1))), batch.count) }
            } catch {
                backend.rolledBack()   // caches may hold ids of rolled-back inserts
                // Isolate the failing item(s): retry one per transaction.
                meta = (maxPaymentIndex, maxUpdateNs, paymentCount)
                for (i, item) in batch.enumerated() {
                    var m = meta
                    do {
                        if let refusal = try backend.refusedInits([item.writes])[0] {
                            results[i] = (refusal, 0)
                            continue
                        }
                        let d = try backend.inTransaction {
                            let d = try backend.apply(item.writes, &m)
                            try backend.saveMeta(m)
                            return d
                        }
                        meta = m
                        results[i] = (nil, d)
                    } catch {
                        backend.rolledBack()
                        // A backend may say precisely what went wrong (a refused init, a fenced change).
                        results[i] = ((error as? PaymentError) ?? .storage(String(describing: error)), 0)
                    }
                }
            }
            condition.lock.withLock {
                (maxPaymentIndex, maxUpdateNs, paymentCount) = meta
                batches += 1
            }
            for (item, r) in zip(batch, results) { item.completion(r.0, r.1) }
            condition.lock.lock()
            completed += UInt64(batch.count)
            if flushWaiters > 0 { condition.broadcast() }
            condition.lock.unlock()
        }
    }

}

/// The meta counters kept in the same transactions as the changes: highest payment index,
/// highest update stamp, number of payments.
typealias PaymentMeta = (maxPaymentIndex: UInt64, maxUpdateNs: Int64, paymentCount: Int64)

/// One backend's side of the group commit: a transaction, the changes applied in it, the
/// counters saved with them. Used only on the writer thread.
protocol PaymentTransactor: AnyObject {
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func inTransaction<R>(_ body: () throws -> R) throws -> R
    /// Applies one item's writes; returns the number of payments deleted.
    func apply(_ writes: [PaymentWrite], _ meta: inout PaymentMeta) throws -> Int
    func saveMeta(_ meta: PaymentMeta) throws
    /// After a rollback: forget anything cached from the rolled-back transaction.
    func rolledBack()
    /// Before the transaction (outside it): the items, by position in `items`, whose
    /// `initPayment` names a hash already stored, each with its refusal. Those items are left out
    /// of the transaction and fail alone (`PaymentPersistence.refusesStoredInits`).
    func refusedInits(_ items: [[PaymentWrite]]) throws -> [Int: PaymentError]
}

extension PaymentTransactor {
    /// A backend that does not screen inits refuses none here (a stored hash then fails its
    /// transaction on the unique index, and the writer isolates it).
    func refusedInits(_ items: [[PaymentWrite]]) throws -> [Int: PaymentError] { [:] }
}

extension PaymentWrite {
    var snapshot: PaymentSnapshot? {
        switch self {
        case .initPayment(let s), .reinitPayment(let s), .registerAttempt(let s, _), .resolveAttempt(let s, _),
             .failPayment(let s), .removeFailedAttempts(let s): return s
        case .deletePayment, .deletePayments: return nil
        }
    }
}
