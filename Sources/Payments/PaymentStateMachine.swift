/// The payment state machine of §6 as pure functions: a snapshot and a request in, a new
/// snapshot or a typed error out. No I/O, no clock: `PaymentControl` adds locking, stamps and
/// persistence around these. Each guard runs in LND's order, so the first error is LND's.
public enum PaymentStateMachine {

    /// InitPayment guard (LND `initializable`): nil/Failed may (re)start, others are refused.
    public static func checkInitializable(_ existing: PaymentSnapshot?) throws(PaymentError) {
        guard let existing else { return }
        switch existing.status {
        case .initiated: throw .alreadyExists
        case .inFlight: throw .inTransition
        case .succeeded: throw .alreadyPaid
        case .failed: return
        }
    }

    /// A new (or retried) payment: no attempts, no failure reason, the given index and stamp.
    /// A retry of a Failed payment therefore wipes its attempts and reason.
    public static func initPayment(existing: PaymentSnapshot?, info: PaymentCreationInfo,
                                   paymentIndex: UInt64, stamp: Int64) throws(PaymentError) -> PaymentSnapshot {
        try checkInitializable(existing)
        return PaymentSnapshot(info: info, paymentIndex: paymentIndex, attempts: [], failureReason: nil, lastUpdateNs: stamp)
    }

    /// LND `Registrable`: updatable status, and an InFlight payment must have no settled HTLC
    /// and no failure reason.
    public static func checkRegistrable(_ p: PaymentSnapshot) throws(PaymentError) {
        let status = p.status
        try checkUpdatable(status)
        if status == .initiated { return }
        if p.hasSettledAttempt { throw .pendingSettled }
        if p.failureReason != nil { throw .pendingFailed }
    }

    /// LND `updatable`: only Initiated and InFlight payments change.
    public static func checkUpdatable(_ status: PaymentStatus) throws(PaymentError) {
        switch status {
        case .initiated, .inFlight: return
        case .succeeded: throw .alreadySucceeded
        case .failed: throw .alreadyFailed
        }
    }

    /// RegisterAttempt (LND KV `RegisterAttempt`): registrability, blinded/MPP compatibility with
    /// the in-flight attempts, the amount checks, then the attempt is appended.
    public static func registerAttempt(_ p: PaymentSnapshot, _ attempt: HTLCAttemptInfo,
                                       stamp: Int64) throws(PaymentError) -> PaymentSnapshot {
        try checkRegistrable(p)
        guard let finalHop = attempt.route.finalHop else { throw .valueMismatch }
        let isBlinded = !finalHop.encryptedData.isEmpty
        let mpp = finalHop.mppRecord
        if isBlinded {
            if mpp != nil { throw .blindedPaymentMPP }
            if finalHop.totalAmtMsat == 0 { throw .blindedMissingTotalAmount }
        }
        for h in p.attempts where h.status == .inFlight {
            guard let hFinal = h.info.route.finalHop else { continue }
            let hBlinded = !hFinal.encryptedData.isEmpty
            if isBlinded != hBlinded { throw .mixedBlindedAndNonBlinded }
            if isBlinded {
                if hFinal.mppRecord != nil { throw .blindedPaymentMPP }
                if hFinal.totalAmtMsat != finalHop.totalAmtMsat { throw .blindedTotalAmountMismatch }
                continue
            }
            let hMpp = hFinal.mppRecord
            switch (mpp, hMpp) {
            case (nil, .some): throw .mppPayment
            case (.some, nil): throw .nonMPPPayment
            case (nil, nil): continue
            case let (.some(a), .some(b)):
                if a.paymentAddr != b.paymentAddr { throw .mppPaymentAddrMismatch }
                if a.totalAmtMsat != b.totalAmtMsat { throw .mppTotalAmountMismatch }
            }
        }
        let amt = attempt.route.receiverAmtMsat
        if !isBlinded && mpp == nil && amt != p.info.valueMsat { throw .valueMismatch }
        let sent = p.sentAmountMsat
        if sent + amt > p.info.valueMsat {
            throw .valueExceedsAmount(attemptedMsat: sent + amt, paymentAmountMsat: p.info.valueMsat)
        }
        if p.attempts.contains(where: { $0.attemptID == attempt.attemptID }) {
            throw .attemptAlreadyRegistered(attempt.attemptID)
        }
        var next = p
        // Keep attempts ordered by id (lnrpc htlcs order); ids normally grow, so this appends.
        let pos = next.attempts.lastIndex(where: { $0.attemptID < attempt.attemptID }).map { $0 + 1 } ?? 0
        next.attempts.insert(HTLCAttempt(info: attempt), at: pos)
        next.lastUpdateNs = stamp
        return next
    }

    /// Settles or fails one attempt (LND KV `updateHtlcKey`).
    public static func resolveAttempt(_ p: PaymentSnapshot, attemptID: UInt64, settle: HTLCSettle?,
                                      failure: HTLCFailInfo?, stamp: Int64) throws(PaymentError) -> PaymentSnapshot {
        try checkUpdatable(p.status)
        guard let i = p.attempts.firstIndex(where: { $0.attemptID == attemptID }) else {
            throw .htlcNotRegistered(attemptID)
        }
        if p.attempts[i].failure != nil { throw .attemptAlreadyFailed }
        if p.attempts[i].settle != nil { throw .attemptAlreadySettled }
        var next = p
        next.attempts[i].settle = settle
        next.attempts[i].failure = failure
        next.lastUpdateNs = stamp
        return next
    }

    /// FailPayment: allowed in any known state; overwrites the reason. In-flight HTLCs stay in flight.
    public static func failPayment(_ p: PaymentSnapshot, reason: FailureReason, stamp: Int64) -> PaymentSnapshot {
        var next = p
        next.failureReason = reason
        next.lastUpdateNs = stamp
        return next
    }

    /// DeletePayment guard (LND `removable`): Initiated, Succeeded and Failed may go.
    public static func checkRemovable(_ p: PaymentSnapshot) throws(PaymentError) {
        if p.status == .inFlight { throw .cannotDeleteInFlight(p.paymentHash) }
    }

    /// The snapshot without its failed attempts (DeletePayment failed_htlcs_only, pruning).
    public static func removingFailedAttempts(_ p: PaymentSnapshot, stamp: Int64) -> PaymentSnapshot {
        var next = p
        next.attempts.removeAll { $0.failure != nil }
        next.lastUpdateNs = stamp
        return next
    }
}
