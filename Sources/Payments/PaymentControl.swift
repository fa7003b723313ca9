import Locks
/// The mutating side of the payment engine (LND `ControlTower` + `PaymentControl`): validates each
/// change with `PaymentStateMachine`, stamps it, hands it to the store's group-committing writer,
/// and — once committed — publishes the new snapshot through the `ControlTower`, then completes.
///
/// Threading: every method may be called from any thread. Validation and enqueueing happen under
/// one short lock, so changes reach the store in the order they were accepted. The asynchronous
/// variants complete on the store's writer thread after commit; the completion must not block
/// (it may call further asynchronous variants). The synchronous variants block the caller until
/// the commit: never call them from a transport event loop or from a completion.
///
/// In memory it keeps the "working" snapshot of payments with changes not yet committed (plus a
/// bounded set of recent ones), so consecutive changes to one payment never wait for each other's
/// commit. Admission is bounded (`maxQueuedWrites`): producers block when the writer lags.
public final class PaymentControl: @unchecked Sendable {
    public struct Options: Sendable {
        /// false = LND's default: delete failed attempts once a payment is terminal, without
        /// notification (`--prune-failed-payment-attempts`). true keeps them (PayTrack's default).
        public var keepFailedAttempts: Bool = true
        /// Recently changed payments kept in memory for validation.
        public var workingCacheCapacity: Int = 65_536
        /// Changes accepted but not yet committed before producers block.
        public var maxQueuedWrites: Int = 16_384
        /// Clock for update stamps (tests inject one).
        public var now: @Sendable () -> Int64 = { unixNanosNow() }
        /// Where payment indexes come from when several writers share the database (replicas on
        /// PostgreSQL: a database sequence); nil counts from the store's high-water mark.
        public var indexSource: (any PaymentIndexSource)?
        /// Told, after commit, each time a payment enters a status: created (or restarted after a
        /// failure) as `initiated`, then `inFlight`, `succeeded`, `failed` (metrics: payments by
        /// status). Runs on the store's writer thread; must be quick.
        public var statusObserver: (@Sendable (PaymentStatus) -> Void)?
        public init() {}
    }

    public typealias Completion = @Sendable (Result<PaymentSnapshot, PaymentError>) -> Void

    private struct Entry {
        var snapshot: PaymentSnapshot?   // nil: deleted, deletion not yet committed
        var seq: UInt64                  // write sequence of its last queued change
    }

    public let store: PaymentPersistence
    public let tower: ControlTower
    public let options: Options

    private let lock = Lock()
    private var working: [PaymentHash: Entry] = [:]
    private var ring: [PaymentHash] = []
    private var ringHead = 0
    private var nextPaymentIndex: UInt64
    private var clock: UpdateClock
    private var writeSeq: UInt64 = 0

    /// Commit progress and admission, guarded by `progress.lock` (never held with `lock` waiting on it).
    private let progress = Condition()
    private var committedSeq: UInt64 = 0
    private var queued = 0
    private var admissionWaiters = 0
    private var poisoned: Set<PaymentHash> = []
    /// Hashes created without reading the store (`PaymentPersistence.refusesStoredInits`) whose
    /// init has not committed yet: the store may still hold an older payment of the hash.
    private var unread: Set<PaymentHash> = []

    public init(store: PaymentPersistence, tower: ControlTower, options: Options = Options()) {
        self.store = store
        self.tower = tower
        self.options = options
        let hw = store.highWater
        nextPaymentIndex = hw.paymentIndex + 1
        clock = UpdateClock(last: hw.updateStamp, now: options.now)
    }

    // MARK: Mutations (asynchronous)

    /// InitPayment: creates the payment, or restarts a Failed one (attempts and reason wiped, new
    /// payment_index). Refusals: `alreadyExists`, `inTransition`, `alreadyPaid` (AlreadyExists).
    ///
    /// A hash neither in memory nor read yet is created without a read when the store refuses
    /// stored hashes itself (`PaymentPersistence.refusesStoredInits`); if it refuses this one, the
    /// init runs again after reading the stored payment, so the answer (a refusal for its status,
    /// or the restart of a Failed one) is the one a read first would have given.
    public func initPayment(_ info: PaymentCreationInfo, completion: @escaping Completion) {
        initPayment(info, readFirst: false, completion: completion)
    }

    private func initPayment(_ info: PaymentCreationInfo, readFirst: Bool, completion: @escaping Completion) {
        // A shared source is asked before the lock (a round trip); a refused init leaves a gap.
        var shared: UInt64?
        if let source = options.indexSource {
            do { shared = try source.nextPaymentIndex() } catch {
                completion(.failure(error))
                return
            }
        }
        let unknownIsNew = !readFirst && store.refusesStoredInits
        mutate(info.paymentIdentifier, unknownIsNew: unknownIsNew, completion: completion, refusedUnread: { [self] in
            initPayment(info, readFirst: true, completion: completion)
        }) { existing, control throws(PaymentError) in
            let index = shared ?? control.nextPaymentIndex
            var s = try PaymentStateMachine.initPayment(existing: existing, info: info, paymentIndex: index, stamp: 0)
            if shared == nil { control.nextPaymentIndex += 1 }
            s.lastUpdateNs = control.clock.stamp(atLeast: Self.stampFloor(s, after: existing))
            return (s, existing == nil ? .initPayment(s) : .reinitPayment(s))
        }
    }

    /// RegisterAttempt: guards of §6 (`payment isn't initiated`, terminal, settled/failure
    /// reason, MPP/blinded compatibility, amounts).
    public func registerAttempt(_ hash: PaymentHash, _ attempt: HTLCAttemptInfo, completion: @escaping Completion) {
        mutate(hash, completion: completion) { existing, control throws(PaymentError) in
            guard let p = existing else { throw .notInitiated }
            var s = try PaymentStateMachine.registerAttempt(p, attempt, stamp: 0)
            s.lastUpdateNs = control.clock.stamp(atLeast: Self.stampFloor(s, after: existing))
            return (s, .registerAttempt(s, attemptID: attempt.attemptID))
        }
    }

    /// SettleAttempt: stores the preimage and settle time of one attempt.
    public func settleAttempt(_ hash: PaymentHash, attemptID: UInt64, _ settle: HTLCSettle, completion: @escaping Completion) {
        resolve(hash, attemptID, settle: settle, failure: nil, completion: completion)
    }

    /// FailAttempt: stores the failure of one attempt.
    public func failAttempt(_ hash: PaymentHash, attemptID: UInt64, _ failure: HTLCFailInfo, completion: @escaping Completion) {
        resolve(hash, attemptID, settle: nil, failure: failure, completion: completion)
    }

    private func resolve(_ hash: PaymentHash, _ id: UInt64, settle: HTLCSettle?, failure: HTLCFailInfo?,
                         completion: @escaping Completion) {
        mutate(hash, completion: completion) { existing, control throws(PaymentError) in
            guard let p = existing else { throw .notInitiated }
            var s = try PaymentStateMachine.resolveAttempt(p, attemptID: id, settle: settle, failure: failure, stamp: 0)
            s.lastUpdateNs = control.clock.stamp(atLeast: Self.stampFloor(s, after: existing))
            return (s, .resolveAttempt(s, attemptID: id))
        }
    }

    /// FailPayment: records the payment-level reason in any known state; in-flight HTLCs stay.
    public func failPayment(_ hash: PaymentHash, reason: FailureReason, completion: @escaping Completion) {
        mutate(hash, completion: completion) { existing, control throws(PaymentError) in
            guard let p = existing else { throw .notInitiated }
            var s = PaymentStateMachine.failPayment(p, reason: reason, stamp: 0)
            s.lastUpdateNs = control.clock.stamp(atLeast: Self.stampFloor(s, after: existing))
            return (s, .failPayment(s))
        }
    }

    /// A change's stamp is above every time the snapshot shows and above the payment's previous
    /// stamp: its version grows even when another writer (a replica whose clock runs ahead, before
    /// a takeover) made the previous change.
    static func stampFloor(_ s: PaymentSnapshot, after existing: PaymentSnapshot?) -> Int64 {
        max(s.maxShownTimeNs, (existing?.lastUpdateNs ?? 0) &+ 1)
    }

    /// Forgets the in-memory copy of `hash`, so its next change validates against the store:
    /// another writer (the replica that owned it before a takeover) may have changed it since.
    public func reload(_ hash: PaymentHash) {
        poison(hash)
    }

    // MARK: Mutations (synchronous: block until committed)

    @discardableResult
    public func initPayment(_ info: PaymentCreationInfo) throws(PaymentError) -> PaymentSnapshot {
        try wait { initPayment(info, completion: $0) }
    }

    @discardableResult
    public func registerAttempt(_ hash: PaymentHash, _ attempt: HTLCAttemptInfo) throws(PaymentError) -> PaymentSnapshot {
        try wait { registerAttempt(hash, attempt, completion: $0) }
    }

    @discardableResult
    public func settleAttempt(_ hash: PaymentHash, attemptID: UInt64, _ settle: HTLCSettle) throws(PaymentError) -> PaymentSnapshot {
        try wait { settleAttempt(hash, attemptID: attemptID, settle, completion: $0) }
    }

    @discardableResult
    public func failAttempt(_ hash: PaymentHash, attemptID: UInt64, _ failure: HTLCFailInfo) throws(PaymentError) -> PaymentSnapshot {
        try wait { failAttempt(hash, attemptID: attemptID, failure, completion: $0) }
    }

    @discardableResult
    public func failPayment(_ hash: PaymentHash, reason: FailureReason) throws(PaymentError) -> PaymentSnapshot {
        try wait { failPayment(hash, reason: reason, completion: $0) }
    }

    private func wait(_ start: (@escaping Completion) -> Void) throws(PaymentError) -> PaymentSnapshot {
        precondition(!store.isWriterThread, "synchronous PaymentControl call from a store completion would deadlock")
        let promise = Latch<Result<PaymentSnapshot, PaymentError>>()
        start { promise.fulfil($0) }
        return try promise.wait().get()
    }

    // MARK: Reads (committed state)

    /// The committed snapshot (TrackPaymentV2 / LookupPayment view), or nil.
    public func fetchPayment(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot? {
        try tower.fetchPayment(hash)
    }

    /// Initiated and InFlight payments, from the status index (for resuming at startup).
    public func inFlightPayments() throws(PaymentError) -> [PaymentSnapshot] {
        try store.fetchInFlightPayments()
    }

    /// ListPayments. Validates the date range first (`start date(%v) must be before end date(%v)`).
    public func listPayments(_ query: PaymentsQuery) throws(PaymentError) -> PaymentsPage {
        try query.validate()
        return try store.queryPayments(query)
    }

    // MARK: Deletion and pruning

    /// DeletePayment. Unknown hash: `payment isn't initiated`; InFlight:
    /// `payment '<hash>' has inflight HTLCsand therefore cannot be deleted: payment is in transition`.
    /// With `failedHtlcsOnly` only its failed attempts are removed. No notification (as LND).
    public func deletePayment(_ hash: PaymentHash, failedHtlcsOnly: Bool) throws(PaymentError) {
        precondition(!store.isWriterThread, "synchronous PaymentControl call from a store completion would deadlock")
        let promise = Latch<PaymentError?>()
        admit()
        var pruned: PaymentSnapshot?
        do {
            try lock.withLock { () throws(PaymentError) in
                guard let p = try loadWorking(hash) else { throw .notInitiated }
                try PaymentStateMachine.checkRemovable(p)
                writeSeq += 1
                let seq = writeSeq
                let write: PaymentWrite
                if failedHtlcsOnly {
                    let s = PaymentStateMachine.removingFailedAttempts(p, stamp: clock.stamp(atLeast: 0))
                    pruned = s
                    write = .removeFailedAttempts(s)
                    setWorking(hash, Entry(snapshot: s, seq: seq))
                } else {
                    write = .deletePayment(hash)
                    setWorking(hash, Entry(snapshot: nil, seq: seq))
                }
                let prunedSnapshot = pruned
                store.write([write]) { [self] error, _ in
                    if error != nil { poison(hash) } else if let prunedSnapshot {
                        tower.replaceSilently(prunedSnapshot)
                    } else {
                        tower.forget(hash)
                    }
                    finished(seq)
                    promise.fulfil(error)
                }
            }
        } catch {
            release()
            throw error
        }
        if let e = promise.wait() { throw e }
    }

    /// `lnrpc.DeletePaymentResponse.status` on success (LND rpcserver).
    public static let deletePaymentStatus = "payment deleted"

    /// The DeleteAllPayments RPC (LND rpcserver + `DeletePayments`): validates the option
    /// combination with LND's messages, deletes, and returns LND's status line
    /// `"<n> payments deleted, failed_htlcs_only=<bool>"`.
    public func deleteAllPayments(allPayments: Bool, failedPaymentsOnly: Bool, failedHtlcsOnly: Bool) throws(PaymentError) -> String {
        if !allPayments && !failedPaymentsOnly && !failedHtlcsOnly { throw .deleteOptionsMissing }
        if allPayments && (failedPaymentsOnly || failedHtlcsOnly) { throw .deleteOptionsContradictory }
        let n = try deletePayments(failedOnly: failedPaymentsOnly, failedHtlcsOnly: failedHtlcsOnly)
        return "\(n) payments deleted, failed_htlcs_only=\(failedHtlcsOnly)"
    }

    /// DeleteAllPayments (LND `DeletePayments`): every removable payment (Initiated, Succeeded,
    /// Failed; InFlight ones are skipped), or only Failed ones with `failedOnly`; with
    /// `failedHtlcsOnly` only their failed attempts are removed and 0 is returned. Runs over the
    /// status index. Returns the number of payments deleted.
    public func deletePayments(failedOnly: Bool, failedHtlcsOnly: Bool) throws(PaymentError) -> Int {
        precondition(!store.isWriterThread, "synchronous PaymentControl call from a store completion would deadlock")
        let promise = Latch<(PaymentError?, Int)>()
        admit()
        lock.withLock {
            writeSeq += 1
            let seq = writeSeq
            let stamp = clock.stamp(atLeast: 0)
            // Apply the same rule to the working copies, so later changes validate against it.
            for (h, e) in working {
                guard let s = e.snapshot, s.status != .inFlight else { continue }
                if failedOnly && s.status != .failed { continue }
                if failedHtlcsOnly {
                    if s.attempts.contains(where: { $0.failure != nil }) {
                        working[h] = Entry(snapshot: PaymentStateMachine.removingFailedAttempts(s, stamp: stamp), seq: seq)
                    }
                } else {
                    working[h] = Entry(snapshot: nil, seq: seq)
                }
            }
            store.write([.deletePayments(failedOnly: failedOnly, failedHtlcsOnly: failedHtlcsOnly, stamp: stamp)]) {
                [self] error, deleted in
                tower.forgetAll()
                finished(seq)
                promise.fulfil((error, deleted))
            }
        }
        let (error, deleted) = promise.wait()
        if let error { throw error }
        return failedHtlcsOnly ? 0 : deleted
    }

    /// Removes the failed attempts of a terminal payment without notification (what LND does after
    /// a payment completes unless `--keep-failed-payment-attempts`). `PaymentControl` calls this by
    /// itself when `keepFailedAttempts` is false; it is public for callers that prune later.
    public func deleteFailedAttempts(_ hash: PaymentHash, completion: (@Sendable (PaymentError?) -> Void)? = nil) {
        admit()
        lock.lock()
        guard let p = try? loadWorking(hash), p.status.isTerminal, p.attempts.contains(where: { $0.failure != nil }) else {
            lock.unlock()
            release()
            completion?(nil)
            return
        }
        enqueuePrune(p, completion: completion)
        lock.unlock()
    }

    /// Caller holds `lock` and one admission.
    private func enqueuePrune(_ p: PaymentSnapshot, completion: (@Sendable (PaymentError?) -> Void)?) {
        let s = PaymentStateMachine.removingFailedAttempts(p, stamp: clock.stamp(atLeast: 0))
        writeSeq += 1
        let seq = writeSeq
        setWorking(s.paymentHash, Entry(snapshot: s, seq: seq))
        store.write([.removeFailedAttempts(s)]) { [self] error, _ in
            if error != nil { poison(s.paymentHash) } else { tower.replaceSilently(s) }
            finished(seq)
            completion?(error)
        }
    }

    // MARK: Core

    /// `unknownIsNew`: a hash neither in memory nor being read is taken as absent (no store read);
    /// if the store then refuses the change as a stored hash's init, `refusedUnread` runs instead
    /// of `completion`.
    private func mutate(_ hash: PaymentHash, unknownIsNew: Bool = false, completion: @escaping Completion,
                        refusedUnread: (@Sendable () -> Void)? = nil,
                        _ transition: (PaymentSnapshot?, PaymentControl) throws(PaymentError) -> (PaymentSnapshot, PaymentWrite)) {
        admit()
        lock.lock()
        let s: PaymentSnapshot, write: PaymentWrite
        var entered: PaymentStatus?
        let wasUnread: Bool
        do {
            let existing: PaymentSnapshot?
            (existing, wasUnread) = try loadWorking(hash, unknownIsNew: unknownIsNew)
            (s, write) = try transition(existing, self)
            if case .reinitPayment = write { entered = s.status }
            else if existing?.status != s.status { entered = s.status }
        } catch {
            lock.unlock()
            release()
            completion(.failure(error))
            return
        }
        writeSeq += 1
        let seq = writeSeq
        let newStatus = entered
        setWorking(hash, Entry(snapshot: s, seq: seq))
        if wasUnread { progress.lock.withLock { _ = unread.insert(hash) } }
        store.write([write]) { [self] error, _ in
            if wasUnread { progress.lock.withLock { _ = unread.remove(hash) } }
            if let error {
                poison(hash)
                finished(seq)
                if wasUnread, let refusedUnread, [.alreadyExists, .inTransition, .alreadyPaid].contains(error) {
                    refusedUnread()
                } else {
                    completion(.failure(error))
                }
                return
            }
            tower.notify(s)
            if let newStatus, let observe = options.statusObserver { observe(newStatus) }
            finished(seq)
            completion(.success(s))
        }
        let prune = !options.keepFailedAttempts && s.status.isTerminal && s.attempts.contains { $0.failure != nil }
        if prune {
            admitWhileLocked()
            enqueuePrune(s, completion: nil)
        }
        lock.unlock()
    }

    /// The working snapshot: the in-memory one (possibly ahead of the store), else the store's.
    /// Caller holds `lock`.
    private func loadWorking(_ hash: PaymentHash) throws(PaymentError) -> PaymentSnapshot? {
        try loadWorking(hash, unknownIsNew: false).snapshot
    }

    /// As `loadWorking(_:)`; with `unknownIsNew`, a hash not in memory is nil without a read
    /// (`unread` true). An in-memory payment whose unread init has not committed is checked
    /// against the store: a stored payment of the hash (an older one, which will refuse that
    /// init, or that init itself, committed) is the state to build on.
    private func loadWorking(_ hash: PaymentHash, unknownIsNew: Bool) throws(PaymentError) -> (snapshot: PaymentSnapshot?, unread: Bool) {
        let (wasPoisoned, pendingUnread) = progress.lock.withLock {
            (!poisoned.isEmpty && poisoned.remove(hash) != nil, !unread.isEmpty && unread.contains(hash))
        }
        if wasPoisoned {
            working[hash] = nil
            tower.forget(hash)
        }
        if let e = working[hash] {
            if pendingUnread, let stored = try store.fetchPayment(hash) { return (stored, false) }
            return (e.snapshot, false)
        }
        if unknownIsNew { return (nil, true) }
        return (try store.fetchPayment(hash), false)
    }

    /// Caller holds `lock`. Bounds the working set, evicting only entries already committed.
    private func setWorking(_ hash: PaymentHash, _ entry: Entry) {
        if working.updateValue(entry, forKey: hash) == nil { ring.append(hash) }
        guard working.count > options.workingCacheCapacity else { return }
        let committed = progress.lock.withLock { committedSeq }
        var budget = ring.count - ringHead
        while working.count > options.workingCacheCapacity && ringHead < ring.count && budget > 0 {
            budget -= 1
            let h = ring[ringHead]
            ringHead += 1
            guard let e = working[h] else { continue }
            if e.seq > committed { ring.append(h) } else { working[h] = nil }
        }
        if ringHead > 4096 && ringHead * 2 > ring.count {
            ring.removeFirst(ringHead)
            ringHead = 0
        }
    }

    private func poison(_ hash: PaymentHash) {
        progress.lock.withLock { _ = poisoned.insert(hash) }
        tower.forget(hash)
    }

    // MARK: Admission (bounded queue of uncommitted changes)

    private func admit() {
        progress.lock.lock()
        if queued >= options.maxQueuedWrites && !store.isWriterThread {
            admissionWaiters += 1
            while queued >= options.maxQueuedWrites { progress.wait() }
            admissionWaiters -= 1
        }
        queued += 1
        progress.lock.unlock()
    }

    /// An extra admission taken while holding `lock` (never waits).
    private func admitWhileLocked() {
        progress.lock.withLock { queued += 1 }
    }

    private func release() {
        progress.lock.lock()
        queued -= 1
        if admissionWaiters > 0 { progress.broadcast() }
        progress.lock.unlock()
    }

    private func finished(_ seq: UInt64) {
        progress.lock.lock()
        if seq > committedSeq { committedSeq = seq }
        queued -= 1
        // Wake producers only when enough room is free, to avoid a context switch per change.
        if admissionWaiters > 0 && (queued <= options.maxQueuedWrites / 2 || queued == 0) { progress.broadcast() }
        progress.lock.unlock()
    }
}
