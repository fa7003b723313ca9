/// The full state of one payment at one moment (LND `MPPayment`): what every update streams.
///
/// The status is derived from the attempts and the failure reason on every read (§6); it is never
/// stored. `lastUpdateNs` is the update stamp: strictly increasing across all payments' mutations
/// and never less than any time inside the snapshot, so it doubles as the snapshot version
/// (a mailbox keeps only higher versions) and as the key of "replay since" (see `ControlTower`).
public struct PaymentSnapshot: Hashable, Sendable {
    public var info: PaymentCreationInfo
    /// `lnrpc.Payment.payment_index`: the DB sequence number, renewed when a failed payment is retried.
    public var paymentIndex: UInt64
    /// Attempts ordered by attempt id (lnrpc `htlcs` order).
    public var attempts: [HTLCAttempt]
    public var failureReason: FailureReason?
    /// The update stamp (unix ns, see above).
    public var lastUpdateNs: Int64

    public init(info: PaymentCreationInfo, paymentIndex: UInt64, attempts: [HTLCAttempt] = [],
                failureReason: FailureReason? = nil, lastUpdateNs: Int64) {
        self.info = info
        self.paymentIndex = paymentIndex
        self.attempts = attempts
        self.failureReason = failureReason
        self.lastUpdateNs = lastUpdateNs
    }

    public var paymentHash: PaymentHash { info.paymentIdentifier }

    /// Snapshot version for caches of encoded bytes: equal versions mean equal snapshots.
    public var version: UInt64 { UInt64(bitPattern: lastUpdateNs) }

    /// §6 status, derived now.
    public var status: PaymentStatus { PaymentStatus.derive(attempts: attempts, failureReason: failureReason) }

    /// The preimage of the last settled HTLC (LND: last settled wins, for AMP), or nil.
    public var settledPreimage: Preimage? { attempts.last(where: { $0.settle != nil })?.settle?.preimage }

    /// Fees over settled HTLCs only (§7 `fee_msat`): in flight or failed payments show 0.
    public var feesMsat: Int64 {
        attempts.reduce(0) { $0 + ($1.settle != nil ? $1.info.route.totalFeesMsat : 0) }
    }

    /// Amount delivered to the recipient by settled and in-flight attempts (LND `SentAmt` less fees).
    public var sentAmountMsat: Int64 {
        attempts.reduce(0) { $0 + ($1.failure == nil ? $1.info.route.receiverAmtMsat : 0) }
    }

    public var inFlightAttempts: [HTLCAttempt] { attempts.filter { $0.status == .inFlight } }
    public var hasSettledAttempt: Bool { attempts.contains { $0.settle != nil } }

    /// The largest time this snapshot shows (creation, attempt and resolve times). A client that
    /// remembers the maximum of this over what it received can pass it as "replay since".
    public var maxShownTimeNs: Int64 {
        var m = info.creationTimeNs
        for a in attempts { m = max(m, a.attemptTimeNs, a.resolveTimeNs) }
        return m
    }

    /// The snapshot with every route's hops dropped (`ListPayments omit_hops`); fees are kept.
    public var withoutHops: PaymentSnapshot {
        var s = self
        for i in s.attempts.indices { s.attempts[i].info.route = s.attempts[i].info.route.withoutHops }
        return s
    }
}
