import Payments
import Routing

/// Translations from the router's and the simulated switch's vocabulary into the payment
/// store's (the same BOLT 4/7 facts, kept apart so routing stays free of persistence). Both sides
/// share one BOLT 4 `FailureCode` (LightningPrimitives), so codes pass through unchanged.
public enum RouteConversion {
    /// A routing `Route` as the payment store records an attempt's route.
    public static func route(_ r: Routing.SourceRoute) -> Payments.Route {
        let hops = r.hops.map { h in
            Payments.Hop(chanID: h.chanID.rawValue, pubKey: h.pubKey.bytes,
                         amtToForwardMsat: Int64(h.amtToForwardMsat), feeMsat: Int64(h.feeMsat), expiry: h.expiry,
                         mppRecord: h.mppRecord.map { Payments.MPPRecord(paymentAddr: $0.paymentAddr, totalAmtMsat: Int64($0.totalAmountMsat)) },
                         customRecords: h.customRecords)
        }
        return Payments.Route(totalTimeLock: r.totalTimeLock, totalAmtMsat: Int64(r.totalAmountMsat),
                              sourcePubKey: r.source.bytes, hops: hops)
    }

    /// A BOLT 4 failure from the network as the payment store records it.
    static func failure(_ f: Routing.HTLCFailure, timeNs: Int64) -> Payments.HTLCFailInfo {
        let m = f.message
        let update = m.channelUpdate.map { u in
            Payments.StoredChannelUpdate(signature: u.signature, chainHash: u.chainHash, chanID: u.shortChannelID.rawValue,
                                   timestamp: u.timestamp, messageFlags: UInt32(u.messageFlags),
                                   channelFlags: UInt32(u.channelFlags), timeLockDelta: UInt32(u.cltvExpiryDelta),
                                   htlcMinimumMsat: u.htlcMinimumMsat, baseFee: u.feeBaseMsat,
                                   feeRate: u.feeProportionalMillionths, htlcMaximumMsat: u.htlcMaximumMsat)
        }
        let message = Payments.StoredFailureMessage(code: m.code, channelUpdate: update, htlcMsat: m.htlcMsat ?? 0,
                                              cltvExpiry: m.cltvExpiry ?? 0, flags: UInt32(m.disabledFlags ?? 0),
                                              height: m.height ?? 0)
        return Payments.HTLCFailInfo(failTimeNs: timeNs, reason: .message, message: message,
                                    failureSourceIndex: UInt32(f.failureSourceIndex))
    }
}
