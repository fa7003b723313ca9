import BOLT11
import Crypto
import Foundation
import RPCCore
import LightningRPC
import PaymentLifecycle
import Routing

/// LND's `extractIntentFromSendRequest` (router_backend.go), spec §5.2: validates a
/// SendPaymentRequest and produces the payment intent, with LND's checks in LND's order and its
/// exact texts. Every error is a plain one (gRPC UNKNOWN).
public struct SendPaymentRequestParser: Sendable {
    /// LND `DefaultMaxParts`.
    public static let defaultMaxParts: UInt32 = 16
    /// LND `MaxPartsUpperLimit`.
    public static let maxPartsUpperLimit: UInt32 = 1000
    /// LND's default payment timeout (`timeout_seconds` 0 means this since v0.19).
    public static let defaultTimeoutSeconds: UInt32 = 60
    /// LND's final CLTV delta for payments without an invoice (`bitcoin.timelockdelta`).
    public static let defaultFinalCLTVDelta: UInt32 = 80
    /// BOLT 4 / LND `record.CustomTypeStart`.
    public static let customTypeStart: UInt64 = 65536
    static let keysendType: UInt64 = 5_482_373_484

    public let selfNode: NodeID
    public let currency: Currency
    public let maxCLTVExpiry: UInt32
    public let now: @Sendable () -> Date

    public init(selfNode: NodeID, currency: Currency, maxCLTVExpiry: UInt32, now: @escaping @Sendable () -> Date = { Date() }) {
        self.selfNode = selfNode
        self.currency = currency
        self.maxCLTVExpiry = maxCLTVExpiry
        self.now = now
    }

    public struct Failure: Error, CustomStringConvertible, GRPCStatusConvertible {
        public let description: String
        init(_ d: String) { description = d }
        public var grpcStatus: GRPCStatus { GRPCStatus(.unknown, description) }
    }

    /// `sat`/`msat` pair → msat (LND `UnmarshallAmt`).
    static func amount(sat: Int64, msat: Int64) throws(Failure) -> UInt64 {
        if sat != 0 && msat != 0 { throw Failure("sat and msat arguments are mutually exclusive") }
        if sat < 0 || msat < 0 { throw Failure("amount cannot be negative") }
        return sat != 0 ? UInt64(sat) * 1000 : UInt64(msat)
    }

    public func parse(_ r: Routerrpc.SendPaymentRequest) throws(Failure) -> PaymentIntent {
        if r.timePref < -1 || r.timePref > 1 { throw Failure("time preference out of range") }
        var lastHop: NodeID?
        if !r.lastHopPubkey.isEmpty {
            guard let v = NodeID(bytes: r.lastHopPubkey) else {
                throw Failure("invalid vertex length of \(r.lastHopPubkey.count), want 33")
            }
            lastHop = v
        }
        let cltvLimit = UInt32(clamping: max(0, r.cltvLimit))
        if cltvLimit > maxCLTVExpiry {
            throw Failure("total time lock of \(cltvLimit) exceeds max allowed \(maxCLTVExpiry)")
        }
        var maxParts = r.maxParts == 0 ? Self.defaultMaxParts : r.maxParts
        if r.maxShardSizeMsat > 0 && maxParts > Self.maxPartsUpperLimit {
            throw Failure("requested max_parts (\(maxParts)) exceeds the allowed upper limit of \(Self.maxPartsUpperLimit); "
                + "cannot send payment amount with max_shard_size_msat=\(Self.msat(r.maxShardSizeMsat))")
        }
        let feeLimit = try Self.amount(sat: r.feeLimitSat, msat: r.feeLimitMsat)
        for key in r.destCustomRecords.keys where key < Self.customTypeStart && key != Self.keysendType {
            throw Failure("no custom records with types below \(Self.customTypeStart) allowed")
        }
        let isKeysend = r.destCustomRecords[Self.keysendType] != nil
        if isKeysend && r.maxShardSizeMsat > 0 {
            throw Failure("keysend payments cannot specify a max shard amount - MPP not supported with keysend payments")
        }
        var hints = try Self.routeHints(r.routeHints)
        let requestedAmount = try Self.amount(sat: r.amt, msat: r.amtMsat)
        let timeout = r.timeoutSeconds <= 0 ? Self.defaultTimeoutSeconds : UInt32(r.timeoutSeconds)

        var destination: NodeID
        var amount: UInt64
        var hash: [UInt8]
        var finalCLTV: UInt32
        var paymentAddr: [UInt8]?
        if !r.paymentRequest.isEmpty {
            if !r.dest.isEmpty { throw Failure("dest and payment_request cannot appear together") }
            if !r.paymentHash.isEmpty { throw Failure("payment_hash and payment_request cannot appear together") }
            if r.finalCltvDelta != 0 { throw Failure("final_cltv_delta and payment_request cannot appear together") }
            // LND's zpay32 reader and texts (an invoice without `s` passes it and is refused below).
            let invoice: Bolt11Invoice
            do { invoice = try ZPay32.decode(r.paymentRequest, network: currency) } catch { throw Failure(error.text) }
            let expiresAt = invoice.timestamp + invoice.expiry
            if UInt64(now().timeIntervalSince1970) > expiresAt {
                throw Failure("invoice expired. Valid until \(Self.goTime(expiresAt))")
            }
            if invoice.features.supports(FeatureVector.ampRequired) && !invoice.features.supports(FeatureVector.basicMPPRequired) && !r.amp {
                throw Failure("the AMP flag (--amp or SendPaymentRequest.Amp) must be set to pay an AMP invoice")
            }
            if let msat = invoice.amountMsat {
                if requestedAmount != 0 { throw Failure("amount must not be specified when paying a non-zero amount invoice") }
                amount = msat
            } else {
                if requestedAmount == 0 { throw Failure("amount must be specified when paying a zero amount invoice") }
                amount = requestedAmount
            }
            if !invoice.features.supports(FeatureVector.basicMPPRequired) && !invoice.features.supports(FeatureVector.ampRequired) {
                maxParts = 1
            }
            guard let secret = invoice.paymentSecret else {
                throw Failure("payment request must contain either a payment address or blinded paths")
            }
            paymentAddr = secret
            destination = NodeID(bytes: invoice.payee.compressed)!
            finalCLTV = UInt32(clamping: invoice.minFinalCLTVExpiry)
            hash = invoice.paymentHash
            hints += invoice.routeHints.map { hint in
                hint.map { h in
                    Routing.RouteHintHop(nodeID: NodeID(bytes: h.nodeID.compressed)!, chanID: ShortChannelID(rawValue: h.shortChannelID),
                                    feeBaseMsat: h.feeBaseMsat, feeProportionalMillionths: h.feeProportionalMillionths,
                                    cltvExpiryDelta: h.cltvExpiryDelta)
                }
            }
        } else {
            guard let target = NodeID(bytes: r.dest) else {
                throw Failure("invalid vertex length of \(r.dest.count), want 33")
            }
            destination = target
            finalCLTV = r.finalCltvDelta != 0 ? UInt32(clamping: r.finalCltvDelta) : Self.defaultFinalCLTVDelta
            if requestedAmount == 0 { throw Failure("amount must be specified") }
            amount = requestedAmount
            if r.amp { throw Failure("destination doesn't support AMP payments") }
            guard r.paymentHash.count == 32 else {
                throw Failure("invalid hash length of \(r.paymentHash.count), want 32")
            }
            hash = r.paymentHash
            if !r.paymentAddr.isEmpty {
                guard r.paymentAddr.count == 32 else { throw Failure("payment addr must be 32 bytes, is instead \(r.paymentAddr.count)") }
                paymentAddr = r.paymentAddr
            }
            if isKeysend {
                // Keysend: the preimage travels to the payee; it must match the hash.
                if let preimage = r.destCustomRecords[Self.keysendType], SHA256.hash(preimage) != hash {
                    throw Failure("keysend preimage does not match payment hash")
                }
                maxParts = 1
            }
        }
        let limit = cltvLimit == 0 ? maxCLTVExpiry : cltvLimit
        if limit <= finalCLTV + 3 {
            throw Failure("cltv limit \(limit) should be greater than \(finalCLTV + 3)")
        }
        if !r.allowSelfPayment && destination == selfNode { throw Failure("self-payments not allowed") }
        if r.maxShardSizeMsat > 0 {
            let maxPossible = UInt64(maxParts) * r.maxShardSizeMsat
            if amount > maxPossible {
                throw Failure("payment amount \(Self.msat(amount)) exceeds maximum possible amount \(Self.msat(maxPossible)) "
                    + "with max_parts=\(maxParts) and max_shard_size_msat=\(Self.msat(r.maxShardSizeMsat))")
            }
        }
        // LND <= 0.20's single-channel restriction (field 8, reserved since v0.21): honoured for
        // old clients, exclusive with the list form.
        var outgoing = r.outgoingChanIds
        if r.outgoingChanId != 0 {
            if !outgoing.isEmpty { throw Failure("outgoing_chan_id and outgoing_chan_ids are mutually exclusive") }
            outgoing = [r.outgoingChanId]
        }
        return PaymentIntent(paymentHash: hash, destination: destination, amountMsat: amount, finalCLTVDelta: finalCLTV,
                             feeLimitMsat: feeLimit, cltvLimit: limit, routeHints: hints,
                             outgoingChanIDs: outgoing, lastHopPubKey: lastHop, paymentAddr: paymentAddr,
                             destCustomRecords: r.destCustomRecords, firstHopCustomRecords: r.firstHopCustomRecords,
                             maxParts: maxParts, maxShardSizeMsat: r.maxShardSizeMsat, timeoutSeconds: timeout,
                             paymentRequest: r.paymentRequest,
                             creationTimeNs: Int64(now().timeIntervalSince1970 * 1_000_000_000))
    }

    static func routeHints(_ hints: [Lnrpc.RouteHint]) throws(Failure) -> [[Routing.RouteHintHop]] {
        var out: [[Routing.RouteHintHop]] = []
        for hint in hints {
            var hops: [Routing.RouteHintHop] = []
            for h in hint.hopHints {
                guard let id = NodeID(hex: h.nodeId) else { throw Failure("invalid hop hint node id \(h.nodeId)") }
                hops.append(Routing.RouteHintHop(nodeID: id, chanID: ShortChannelID(rawValue: h.chanId), feeBaseMsat: h.feeBaseMsat,
                                            feeProportionalMillionths: h.feeProportionalMillionths,
                                            cltvExpiryDelta: UInt16(clamping: h.cltvExpiryDelta)))
            }
            out.append(hops)
        }
        return out
    }

    /// lnwire.MilliSatoshi's String(): "<n> mSAT".
    static func msat(_ v: UInt64) -> String { "\(v) mSAT" }

    /// Go's time.Time String() in UTC: "2022-07-05 09:07:39 +0000 UTC".
    static func goTime(_ unix: UInt64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(unix))) + " +0000 UTC"
    }
}
