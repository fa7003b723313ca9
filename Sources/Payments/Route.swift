/// BOLT 4 `payment_data` TLV (type 8): the multi-path payment record carried by the final hop.
public struct MPPRecord: Hashable, Sendable {
    public var paymentAddr: [UInt8]
    public var totalAmtMsat: Int64
    public init(paymentAddr: [UInt8], totalAmtMsat: Int64) {
        self.paymentAddr = paymentAddr
        self.totalAmtMsat = totalAmtMsat
    }
}

/// LND's AMP record (TLV 14): root share, set id and child index of one atomic multi-path shard.
public struct AMPRecord: Hashable, Sendable {
    public var rootShare: [UInt8]
    public var setID: [UInt8]
    public var childIndex: UInt32
    public init(rootShare: [UInt8], setID: [UInt8], childIndex: UInt32) {
        self.rootShare = rootShare
        self.setID = setID
        self.childIndex = childIndex
    }
}

/// One hop of a route (BOLT 4 hop payload as LND's `route.Hop`).
public struct Hop: Hashable, Sendable {
    /// Short channel id of the channel used to reach `pubKey`.
    public var chanID: UInt64
    /// The compressed 33-byte public key of the node this hop reaches.
    public var pubKey: [UInt8]
    public var amtToForwardMsat: Int64
    /// The hop's own fee, as LND stores it per hop (incoming minus outgoing amount).
    public var feeMsat: Int64
    /// Outgoing CLTV value (`outgoing_cltv_value`).
    public var expiry: UInt32
    /// True for a legacy (pre-TLV) payload; modern hops are false (lnrpc `tlv_payload = !legacy`).
    public var legacyPayload: Bool
    public var mppRecord: MPPRecord?
    public var ampRecord: AMPRecord?
    public var customRecords: [UInt64: [UInt8]]
    public var metadata: [UInt8]
    /// Route blinding (BOLT 4): present only for blinded hops.
    public var blindingPoint: [UInt8]
    public var encryptedData: [UInt8]
    /// Blinded final hop: total amount of the payment (BOLT 4 `total_amount_msat`); 0 if unset.
    public var totalAmtMsat: UInt64

    public init(chanID: UInt64, pubKey: [UInt8], amtToForwardMsat: Int64, feeMsat: Int64 = 0, expiry: UInt32,
                legacyPayload: Bool = false, mppRecord: MPPRecord? = nil, ampRecord: AMPRecord? = nil,
                customRecords: [UInt64: [UInt8]] = [:], metadata: [UInt8] = [], blindingPoint: [UInt8] = [],
                encryptedData: [UInt8] = [], totalAmtMsat: UInt64 = 0) {
        self.chanID = chanID
        self.pubKey = pubKey
        self.amtToForwardMsat = amtToForwardMsat
        self.feeMsat = feeMsat
        self.expiry = expiry
        self.legacyPayload = legacyPayload
        self.mppRecord = mppRecord
        self.ampRecord = ampRecord
        self.customRecords = customRecords
        self.metadata = metadata
        self.blindingPoint = blindingPoint
        self.encryptedData = encryptedData
        self.totalAmtMsat = totalAmtMsat
    }
}

/// A route as LND's `route.Route`: the amount leaving our node, the total time lock and the hops.
public struct Route: Hashable, Sendable {
    public var totalTimeLock: UInt32
    /// Amount sent from our node including all fees (`TotalAmount`).
    public var totalAmtMsat: Int64
    /// Source public key (33 bytes).
    public var sourcePubKey: [UInt8]
    public var hops: [Hop]
    /// Amount for the first hop when it differs from `totalAmtMsat` (custom channels); 0 if unset.
    public var firstHopAmountMsat: Int64
    public var firstHopWireCustomRecords: [UInt64: [UInt8]]
    public var customChannelData: [UInt8]
    /// Set by `withoutHops`: the fees the route had before its hops were dropped.
    public private(set) var feesWithoutHopsMsat: Int64? = nil

    public init(totalTimeLock: UInt32, totalAmtMsat: Int64, sourcePubKey: [UInt8] = [], hops: [Hop],
                firstHopAmountMsat: Int64 = 0, firstHopWireCustomRecords: [UInt64: [UInt8]] = [:],
                customChannelData: [UInt8] = []) {
        self.totalTimeLock = totalTimeLock
        self.totalAmtMsat = totalAmtMsat
        self.sourcePubKey = sourcePubKey
        self.hops = hops
        self.firstHopAmountMsat = firstHopAmountMsat
        self.firstHopWireCustomRecords = firstHopWireCustomRecords
        self.customChannelData = customChannelData
    }

    /// The amount received by the final hop.
    public var receiverAmtMsat: Int64 { hops.last?.amtToForwardMsat ?? 0 }
    /// Total fees paid along the route (LND `route.TotalFees()`): sent amount minus delivered amount.
    public var totalFeesMsat: Int64 {
        if let feesWithoutHopsMsat { return feesWithoutHopsMsat }
        return hops.isEmpty ? 0 : totalAmtMsat - receiverAmtMsat
    }
    /// The final hop, which carries MPP/AMP and blinding records.
    public var finalHop: Hop? { hops.last }

    /// The same route without its hops (`ListPayments omit_hops`).
    public var withoutHops: Route {
        var r = self
        r.feesWithoutHopsMsat = totalFeesMsat
        r.hops = []
        return r
    }
}
