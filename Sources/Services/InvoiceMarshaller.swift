import BOLT11
import Crypto
import Invoices
import LightningRPC

/// Converts between the invoice domain and `lnrpc.Invoice` / `lnrpc.PayReq` (spec §2).
enum InvoiceMarshaller {
    static func invoice(_ i: Invoices.Invoice) -> Lnrpc.Invoice {
        var o = Lnrpc.Invoice()
        o.memo = i.memo
        o.rPreimage = i.rPreimage ?? []
        o.rHash = i.rHash
        o.value = i.value
        o.valueMsat = i.valueMsat
        o.settled = i.settled
        o.creationDate = i.creationDate
        o.settleDate = i.settleDate
        o.paymentRequest = i.paymentRequest
        o.descriptionHash = i.descriptionHash
        o.expiry = i.expiry
        o.fallbackAddr = i.fallbackAddr
        o.cltvExpiry = i.cltvExpiry
        o.routeHints = i.routeHints.map(routeHint)
        o.private = i.isPrivate
        o.addIndex = i.addIndex
        o.settleIndex = i.settleIndex
        o.amtPaid = i.amtPaidSat
        o.amtPaidSat = i.amtPaidSat
        o.amtPaidMsat = i.amtPaidMsat
        o.state = Lnrpc.Invoice.InvoiceState(rawValue: i.state.rawValue)
        o.htlcs = i.htlcs.map(htlc)
        o.features = features(i.featureMap)
        o.isKeysend = i.isKeysend
        o.paymentAddr = i.paymentAddr
        o.isAmp = i.isAmp
        return o
    }

    static func htlc(_ h: Invoices.InvoiceHTLC) -> Lnrpc.InvoiceHTLC {
        var o = Lnrpc.InvoiceHTLC()
        o.chanId = h.chanID
        o.htlcIndex = h.htlcIndex
        o.amtMsat = h.amtMsat
        o.acceptHeight = h.acceptHeight
        o.acceptTime = h.acceptTime
        o.resolveTime = h.resolveTime
        o.expiryHeight = h.expiryHeight
        o.state = Lnrpc.InvoiceHTLCState(rawValue: h.state.rawValue)
        o.customRecords = h.customRecords
        o.mppTotalAmtMsat = h.mppTotalAmtMsat
        return o
    }

    static func routeHint(_ hints: [BOLT11.HopHint]) -> Lnrpc.RouteHint {
        var r = Lnrpc.RouteHint()
        r.hopHints = hints.map { h in
            var o = Lnrpc.HopHint()
            o.nodeId = Hex.encode(h.nodeID.compressed)
            o.chanId = h.shortChannelID
            o.feeBaseMsat = h.feeBaseMsat
            o.feeProportionalMillionths = h.feeProportionalMillionths
            o.cltvExpiryDelta = UInt32(h.cltvExpiryDelta)
            return o
        }
        return r
    }

    static func features(_ map: [UInt32: FeatureInfo]) -> [UInt32: Lnrpc.Feature] {
        map.mapValues { f in
            var o = Lnrpc.Feature()
            o.name = f.name
            o.isRequired = f.isRequired
            o.isKnown = f.isKnown
            return o
        }
    }

    static func payReq(_ p: PayReq) -> Lnrpc.PayReq {
        var o = Lnrpc.PayReq()
        o.destination = p.destination
        o.paymentHash = p.paymentHash
        o.numSatoshis = p.numSatoshis
        o.timestamp = p.timestamp
        o.expiry = p.expiry
        o.description = p.description
        o.descriptionHash = p.descriptionHash
        o.fallbackAddr = p.fallbackAddr
        o.cltvExpiry = p.cltvExpiry
        o.routeHints = p.routeHints.map(routeHint)
        o.paymentAddr = p.paymentAddr
        o.numMsat = p.numMsat
        o.features = features(p.features)
        return o
    }

    /// `lnrpc.RouteHint`s of an AddInvoice request, as BOLT 11 hop hints; a malformed node id is
    /// LND's plain error.
    static func hopHints(_ hints: [Lnrpc.RouteHint]) throws -> [[BOLT11.HopHint]] {
        try hints.map { hint in
            try hint.hopHints.map { h in
                guard let bytes = Hex.decode(h.nodeId), let key = try? PublicKey(serialized: bytes) else {
                    throw InvoiceServiceError("unable to decode hop hint node id \(h.nodeId)")
                }
                return BOLT11.HopHint(nodeID: key, shortChannelID: h.chanId, feeBaseMsat: h.feeBaseMsat,
                                      feeProportionalMillionths: h.feeProportionalMillionths,
                                      cltvExpiryDelta: UInt16(clamping: h.cltvExpiryDelta))
            }
        }
    }
}

/// A plain (code UNKNOWN) error raised by the invoice glue itself.
struct InvoiceServiceError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
