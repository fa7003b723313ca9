import Dispatch
import Foundation
import Locks
import Payments

/// Runs a `PaymentLeaseMachine` on a thread of its own: heartbeats, takeover scans, and what a
/// lost lease means locally. One per served node on the PostgreSQL backend (its schema holds its
/// payments and leases).
///
/// Contract:
/// - `start` begins acquiring; `waitUntilHeld` blocks until the first lease is held (startup, so
///   a replica that says "ready" can send at once).
/// - Granted leases go to `gate` (which the store's fencing and the payment runs consult).
/// - `stopActing` revokes the gate first, then calls `onLost` (the router abandons its runs).
/// - Payments taken over go to `onTakeOver` on a serial queue of its own (resuming them writes,
///   which must not delay a heartbeat).
/// - `stop` (shutdown): stops acting, releases the lease in the database, joins the thread.
public final class PaymentLeaseKeeper: @unchecked Sendable {
    private let database: any PaymentLeaseDatabase
    private let gate: PaymentLeaseGate
    private let name: String
    private let clock: @Sendable () -> Double
    private let log: @Sendable (String) -> Void
    private let onLost: @Sendable () -> Void
    private let onTakeOver: @Sendable ([PaymentSnapshot]) -> Void
    private let condition = Condition()
    private var machine: PaymentLeaseMachine
    private var stopping = false
    private var started = false
    private let exited = Latch<Void>()
    /// Set once `stop` began: the lease is given up, not lost.
    private var closing = false
    private let resumeQueue = DispatchQueue(label: "paytrack.lease.takeover")
    /// Leases acquired and lost so far, payments taken over (statistics, tests, logs).
    public var acquisitions: Int { condition.lock.withLock { counts.acquisitions } }
    public var losses: Int { condition.lock.withLock { counts.losses } }
    public var takenOver: Int { condition.lock.withLock { counts.takenOver } }
    private var counts = (acquisitions: 0, losses: 0, takenOver: 0)

    public init(database: any PaymentLeaseDatabase, gate: PaymentLeaseGate, timing: PaymentLeaseMachine.Timing, name: String,
                clock: @escaping @Sendable () -> Double = monotonicSeconds,
                log: @escaping @Sendable (String) -> Void = { _ in },
                onLost: @escaping @Sendable () -> Void,
                onTakeOver: @escaping @Sendable ([PaymentSnapshot]) -> Void) {
        self.database = database
        self.gate = gate
        self.name = name
        self.clock = clock
        self.log = log
        self.onLost = onLost
        self.onTakeOver = onTakeOver
        machine = PaymentLeaseMachine(timing: timing, now: clock())
    }

    public func start() {
        condition.lock.withLock { started = true }
        let thread = Thread { [self] in
            run()
            exited.fulfil(())
        }
        thread.name = "paytrack.lease"
        thread.start()
    }

    /// True once a lease is held; waits at most `seconds`.
    public func waitUntilHeld(seconds: Double) -> Bool {
        let end = clock() + seconds
        while clock() < end {
            if gate.mayAct { return true }
            usleep(10_000)
        }
        return gate.mayAct
    }

    /// Stops acting, releases the lease, joins the thread. Idempotent.
    public func stop() {
        let wait = condition.lock.withLock { () -> Bool in
            defer { stopping = true }
            return started && !stopping
        }
        if wait { exited.wait() }
    }

    private func run() {
        while true {
            let (actions, next, done) = condition.lock.withLock { () -> ([PaymentLeaseMachine.Action], Double, Bool) in
                if stopping {
                    closing = true
                    return (machine.close(), 0, true)
                }
                let a = machine.tick(now: clock())
                return (a, machine.nextDeadline(), false)
            }
            perform(actions)
            if done { return }
            if actions.isEmpty {
                // Sleep until the next deadline, waking at least every 50 ms to notice `stop`.
                let wait = max(0.001, min(next - clock(), 0.05))
                usleep(UInt32(wait * 1_000_000))
            }
        }
    }

    /// `2.4s`, `600ms`.
    static func seconds(_ s: Double) -> String {
        s >= 1 ? "\((s * 1000).rounded() / 1000)s" : "\(Int((s * 1000).rounded()))ms"
    }

    private func perform(_ actions: [PaymentLeaseMachine.Action]) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            let more: [PaymentLeaseMachine.Action]
            switch action {
            case .acquire:
                let sentAt = clock()
                let t = machine.timing
                do {
                    let token = try database.acquire(name: name, seconds: t.leaseSeconds, marginSeconds: t.marginSeconds)
                    more = condition.lock.withLock { machine.acquired(token, sentAt: sentAt, now: clock()) }
                    if more.contains(where: { if case .grant = $0 { true } else { false } }) {
                        condition.lock.withLock { counts.acquisitions += 1 }
                        log("payment lease \(token) acquired (\(Self.seconds(t.leaseSeconds)), renewed every \(Self.seconds(t.renewEvery)))")
                    }
                } catch {
                    log("payment lease: cannot acquire: \(error)")
                    more = condition.lock.withLock { machine.acquireFailed(now: clock()) }
                }
            case .renew(let token):
                let sentAt = clock()
                let t = machine.timing
                do {
                    let ok = try database.renew(token, seconds: t.leaseSeconds, marginSeconds: t.marginSeconds)
                    more = condition.lock.withLock {
                        ok ? machine.renewed(sentAt: sentAt, now: clock()) : machine.renewFailed(refused: true, now: clock())
                    }
                    if !ok { log("payment lease \(token): lapsed in the database") }
                } catch {
                    log("payment lease \(token): renewal failed: \(error)")
                    more = condition.lock.withLock { machine.renewFailed(refused: false, now: clock()) }
                }
            case .grant(let token, let until):
                gate.grant(token, until: until)
                more = []
            case .stopActing(let token):
                gate.revoke()
                if condition.lock.withLock({ closing }) {
                    log("payment lease \(token) released (stopping): another replica takes its payments over")
                } else {
                    condition.lock.withLock { counts.losses += 1 }
                    log("payment lease \(token) lost: this replica stops driving its payments (another takes them over)")
                }
                onLost()
                more = []
            case .takeOver(let token):
                do {
                    let payments = try database.takeOver(token)
                    if !payments.isEmpty {
                        condition.lock.withLock { counts.takenOver += payments.count }
                        log("payment lease \(token): took over \(payments.count) payment(s) of lapsed leases")
                        resumeQueue.async { [onTakeOver] in onTakeOver(payments) }
                    }
                } catch {
                    log("payment lease \(token): takeover scan failed: \(error)")
                }
                more = []
            case .release(let token):
                database.release(token)
                more = []
            }
            queue.append(contentsOf: more)
        }
    }
}
