import BOLT11
import Crypto
import Foundation
import LightningRPC
import PaymentLifecycle
import Routing

/// LND v0.20's `extractPaymentIntent` (rpcserver.go@v0.20.3) for the legacy lnrpc payment calls
/// (SendPaymentSync, SendPayment): an `lnrpc.SendRequest` becomes a single-part payment intent,
/// with that version's checks, order and texts. It differs from SendPaymentV2's parser on
/// purpose (LND did): one part only; the fee limit defaults to 100% up to 1000 sat, else 5%;
/// a manual payment's final CLTV delta defaults to 80; an amount given with an invoice that has
/// one is ignored; `dest`, `payment_hash`, `final_cltv_delta`, `dest_features` and
/// `payment_addr` are ignored when a payment request is given. Every error is a plain one.
public struct LegacySendRequestParser: Sendable {
    /// LND <= 0.20's `PayAttemptTimeout` for these calls (60 s).
    public static let timeoutSeconds: UInt32 = 60
    public let v2: SendPaymentRequestParser

    public init(v2: SendPaymentRequestParser) { self.v2 = v2 }

    public typealias Failure = SendPaymentRequestParser.Failure

    /// lnrpc.FeeLimit → msat (lnrpc/marshall_utils.go@v0.20 `CalculateFeeLimit`): fixed sat,
    /// fixed msat, percent of the amount; unset → `DefaultRoutingFeeLimitForAmount` (100% up to
    /// 1,000 sat, else 5%).
    public static func feeLimitMsat(_ limit: Lnrpc.FeeLimit?, amountMsat: UInt64) -> UInt64 {
        if let limit {
            if limit.fixed != 0 { return UInt64(clamping: limit.fixed) &* 1000 }
            if limit.fixedMsat != 0 { return UInt64(clamping: limit.fixedMsat) }
            if limit.percent != 0 {
                let (product, overflow) = amountMsat.multipliedReportingOverflow(by: UInt64(clamping: limit.percent))
                return overflow ? .max : product / 100
            }
        }
        return amountMsat <= 1_000_000 ? amountMsat : amountMsat / 20
    }

    /// The hash of a legacy request: hex `payment_hash_string` wins over `payment_hash` bytes;
    /// no length check (LND copies into a [32]byte: truncated or zero-padded).
    static func paymentHash(string: String, bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var raw = bytes
        if !string.isEmpty {
            if let e = Hex.decodeFailure(string) { throw Failure(e.description) }
            raw = Hex.decode(string) ?? []
        }
        return Array((raw + [UInt8](repeating: 0, count: 32)).prefix(32))
    }

    public func parse(_ r: Lnrpc.SendRequest) throws(Failure) -> PaymentIntent {
        var outgoing: [UInt64] = []
        if r.outgoingChanId != 0 { outgoing = [r.outgoingChanId] }
        var lastHop: NodeID?
        if !r.lastHopPubkey.isEmpty {
            guard let v = NodeID(bytes: r.lastHopPubkey) else {
                throw Failure("invalid vertex length of \(r.lastHopPubkey.count), want 33")
            }
            lastHop = v
        }
        let maxCLTV = v2.maxCLTVExpiry
        if r.cltvLimit > maxCLTV { throw Failure("total time lock of \(r.cltvLimit) exceeds max allowed \(maxCLTV)") }
        let cltvLimit = r.cltvLimit == 0 ? maxCLTV : r.cltvLimit
        for key in r.destCustomRecords.keys where key < SendPaymentRequestParser.customTypeStart {
            throw Failure("no custom records with types below \(SendPaymentRequestParser.customTypeStart) allowed")
        }
        let now = Int64(v2.now().timeIntervalSince1970 * 1_000_000_000)

        if !r.paymentRequest.isEmpty {
            let invoice: Bolt11Invoice
            do { invoice = try Bolt11Invoice.decode(r.paymentRequest) } catch { throw Failure("\(error)") }
            guard invoice.currency == v2.currency else {
                throw Failure("invoice not for current active network '\(v2.currency.lndNetworkName)'")
            }
            let expiresAt = invoice.timestamp + invoice.expiry
            if UInt64(v2.now().timeIntervalSince1970) > expiresAt {
                throw Failure("invoice expired. Valid until \(SendPaymentRequestParser.goTime(expiresAt))")
            }
            let amount: UInt64
            if let msat = invoice.amountMsat {
                amount = msat
            } else {
                let requested = try SendPaymentRequestParser.amount(sat: r.amt, msat: r.amtMsat)
                if requested == 0 { throw Failure("amount must be specified when paying a zero amount invoice") }
                amount = requested
            }
            let destination = NodeID(bytes: invoice.payee.compressed)!
            if !r.allowSelfPayment && destination == v2.selfNode { throw Failure("self-payments not allowed") }
            let finalCLTV = UInt32(clamping: invoice.minFinalCLTVExpiry)
            if cltvLimit <= finalCLTV + 3 { throw Failure("cltv limit \(cltvLimit) should be greater than \(finalCLTV + 3)") }
            let hints = invoice.routeHints.map { hint in
                hint.map { h in
                    Routing.RouteHintHop(nodeID: NodeID(bytes: h.nodeID.compressed)!, chanID: ShortChannelID(rawValue: h.shortChannelID),
                                    feeBaseMsat: h.feeBaseMsat, feeProportionalMillionths: h.feeProportionalMillionths,
                                    cltvExpiryDelta: h.cltvExpiryDelta)
                }
            }
            return PaymentIntent(paymentHash: invoice.paymentHash, destination: destination, amountMsat: amount,
                                 finalCLTVDelta: finalCLTV, feeLimitMsat: Self.feeLimitMsat(r.feeLimit, amountMsat: amount),
                                 cltvLimit: cltvLimit, routeHints: hints, outgoingChanIDs: outgoing, lastHopPubKey: lastHop,
                                 paymentAddr: invoice.paymentSecret, destCustomRecords: r.destCustomRecords,
                                 maxParts: 1, timeoutSeconds: Self.timeoutSeconds, paymentRequest: r.paymentRequest,
                                 creationTimeNs: now)
        }

        // A payment without an invoice: dest bytes win over the hex string.
        var destBytes = r.dest
        if destBytes.isEmpty {
            if let e = Hex.decodeFailure(r.destString) { throw Failure(e.description) }
            destBytes = Hex.decode(r.destString) ?? []
        }
        guard let destination = NodeID(bytes: destBytes) else { throw Failure("invalid key length") }
        if !r.allowSelfPayment && destination == v2.selfNode { throw Failure("self-payments not allowed") }
        if !r.paymentAddr.isEmpty && r.paymentAddr.count != 32 { throw Failure("invalid payment address length") }
        let amount = try SendPaymentRequestParser.amount(sat: r.amt, msat: r.amtMsat)
        let finalCLTV = r.finalCltvDelta != 0 ? UInt32(clamping: r.finalCltvDelta) : SendPaymentRequestParser.defaultFinalCLTVDelta
        if cltvLimit <= finalCLTV + 3 { throw Failure("cltv limit \(cltvLimit) should be greater than \(finalCLTV + 3)") }
        let hash = try Self.paymentHash(string: r.paymentHashString, bytes: r.paymentHash)
        return PaymentIntent(paymentHash: hash, destination: destination, amountMsat: amount, finalCLTVDelta: finalCLTV,
                             feeLimitMsat: Self.feeLimitMsat(r.feeLimit, amountMsat: amount), cltvLimit: cltvLimit,
                             outgoingChanIDs: outgoing, lastHopPubKey: lastHop,
                             paymentAddr: r.paymentAddr.isEmpty ? nil : r.paymentAddr, destCustomRecords: r.destCustomRecords,
                             maxParts: 1, timeoutSeconds: Self.timeoutSeconds, creationTimeNs: now)
    }
}
