import LightningRPC
import Payments
import Crypto

/// Turns a payment snapshot into the `lnrpc.Payment` LND streams (LND `MarshallPayment`, spec §7):
/// hex hash, preimage as 64 zeros until settled, fees over settled attempts only, the deprecated
/// `value`/`fee`/`creation_date` still filled, `tlv_payload = true` for modern hops, and
/// `Hop.chan_capacity` holding the hop's incoming amount in sat (LND's approximation).
///
/// Stateless; `useStatusInitiated` is LND's `routerrpc.usestatusinitiated` (INITIATED is shown as
/// IN_FLIGHT unless it is set; UNKNOWN is never produced).
public struct PaymentMarshaller: Sendable {
    public let useStatusInitiated: Bool

    public init(useStatusInitiated: Bool) {
        self.useStatusInitiated = useStatusInitiated
    }

    static let zeroPreimageHex = String(repeating: "0", count: 64)

    public func payment(_ s: PaymentSnapshot) -> Lnrpc.Payment {
        var p = Lnrpc.Payment()
        p.paymentHash = s.paymentHash.description
        let valueMsat = s.info.valueMsat
        p.valueMsat = valueMsat
        p.valueSat = valueMsat / 1000
        p.value = p.valueSat
        let creation = s.info.creationTimeNs
        p.creationTimeNs = creation
        p.creationDate = creation / 1_000_000_000
        let fees = s.feesMsat
        p.feeMsat = fees
        p.feeSat = fees / 1000
        p.fee = p.feeSat
        p.paymentPreimage = s.settledPreimage?.description ?? Self.zeroPreimageHex
        p.paymentRequest = String(decoding: s.info.paymentRequest, as: UTF8.self)
        p.status = Lnrpc.Payment.PaymentStatus(rawValue: s.status.rpcValue(useStatusInitiated: useStatusInitiated))
        p.htlcs = s.attempts.map(htlcAttempt)
        p.paymentIndex = s.paymentIndex
        p.failureReason = Lnrpc.PaymentFailureReason(rawValue: s.failureReason?.rpcValue ?? 0)
        p.firstHopCustomRecords = s.info.firstHopCustomRecords
        return p
    }

    public func htlcAttempt(_ a: HTLCAttempt) -> Lnrpc.HTLCAttempt {
        var h = Lnrpc.HTLCAttempt()
        h.attemptId = a.attemptID
        h.attemptTimeNs = a.attemptTimeNs
        h.route = route(a.route)
        if let settle = a.settle {
            h.status = .succeeded
            h.resolveTimeNs = settle.settleTimeNs
            h.preimage = settle.preimage.bytes
        } else if let failure = a.failure {
            h.status = .failed
            h.resolveTimeNs = failure.failTimeNs
            h.failure = self.failure(failure)
        } else {
            h.status = .inFlight
        }
        return h
    }

    public func route(_ r: Payments.Route) -> Lnrpc.Route {
        var out = Lnrpc.Route()
        out.totalTimeLock = r.totalTimeLock
        let fees = r.totalFeesMsat
        out.totalFeesMsat = fees
        out.totalFees = fees / 1000
        out.totalAmtMsat = r.totalAmtMsat
        out.totalAmt = r.totalAmtMsat / 1000
        out.firstHopAmountMsat = r.firstHopAmountMsat
        out.customChannelData = r.customChannelData
        var incomingMsat = r.totalAmtMsat
        out.hops.reserveCapacity(r.hops.count)
        for hop in r.hops {
            var h = Lnrpc.Hop()
            h.chanId = hop.chanID
            h.chanCapacity = incomingMsat / 1000
            h.amtToForwardMsat = hop.amtToForwardMsat
            h.amtToForward = hop.amtToForwardMsat / 1000
            h.feeMsat = hop.feeMsat
            h.fee = hop.feeMsat / 1000
            h.expiry = hop.expiry
            h.pubKey = Hex.encode(hop.pubKey)
            h.tlvPayload = !hop.legacyPayload
            h.customRecords = hop.customRecords
            if let mpp = hop.mppRecord {
                var m = Lnrpc.MPPRecord()
                m.paymentAddr = mpp.paymentAddr
                m.totalAmtMsat = mpp.totalAmtMsat
                h.mppRecord = m
            }
            if let amp = hop.ampRecord {
                var m = Lnrpc.AMPRecord()
                m.rootShare = amp.rootShare
                m.setId = amp.setID
                m.childIndex = amp.childIndex
                h.ampRecord = m
            }
            h.metadata = hop.metadata
            h.blindingPoint = hop.blindingPoint
            h.encryptedData = hop.encryptedData
            h.totalAmtMsat = hop.totalAmtMsat
            out.hops.append(h)
            incomingMsat = hop.amtToForwardMsat
        }
        return out
    }

    /// §7: `failure_source_index` always; the wire failure's extra fields only for the codes that
    /// carry them in BOLT 4.
    public func failure(_ f: HTLCFailInfo) -> Lnrpc.Failure {
        var out = Lnrpc.Failure()
        let code = f.code
        out.code = Lnrpc.Failure.FailureCode(rawValue: code.rawValue)
        out.failureSourceIndex = f.failureSourceIndex
        guard f.reason == .message, let m = f.message else { return out }
        switch code {
        case .incorrectOrUnknownPaymentDetails:
            // LND marshallWireError fills only the height here (not the htlc amount BOLT 4 carries).
            out.height = m.height
        case .finalIncorrectCltvExpiry:
            out.cltvExpiry = m.cltvExpiry
        case .incorrectCltvExpiry:
            out.cltvExpiry = m.cltvExpiry
        case .finalIncorrectHtlcAmount, .amountBelowMinimum, .feeInsufficient:
            out.htlcMsat = m.htlcMsat
        case .invalidOnionVersion, .invalidOnionHmac, .invalidOnionKey, .invalidOnionBlinding:
            out.onionSha256 = m.onionSha256
        case .channelDisabled:
            out.flags = m.flags
        default:
            break
        }
        switch code {
        case .expiryTooSoon, .amountBelowMinimum, .feeInsufficient, .incorrectCltvExpiry,
             .channelDisabled, .temporaryChannelFailure:
            if let u = m.channelUpdate { out.channelUpdate = channelUpdate(u) }
        default:
            break
        }
        return out
    }

    func channelUpdate(_ u: StoredChannelUpdate) -> Lnrpc.ChannelUpdate {
        var c = Lnrpc.ChannelUpdate()
        c.signature = u.signature
        c.chainHash = u.chainHash
        c.chanId = u.chanID
        c.timestamp = u.timestamp
        c.messageFlags = u.messageFlags
        c.channelFlags = u.channelFlags
        c.timeLockDelta = u.timeLockDelta
        c.htlcMinimumMsat = u.htlcMinimumMsat
        c.baseFee = u.baseFee
        c.feeRate = u.feeRate
        c.htlcMaximumMsat = u.htlcMaximumMsat
        c.extraOpaqueData = u.extraOpaqueData
        return c
    }
}
