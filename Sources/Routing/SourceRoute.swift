/// BOLT 4 `payment_data` (LND `PaymentData`): the payee's payment secret and the total amount of
/// the whole (multi-part) payment, carried in the final hop's payload.
public struct PaymentData: Sendable, Equatable {
    public var paymentAddr: [UInt8]
    public var totalAmountMsat: UInt64
    public init(paymentAddr: [UInt8], totalAmountMsat: UInt64) {
        self.paymentAddr = paymentAddr
        self.totalAmountMsat = totalAmountMsat
    }
}

/// One hop of a route, in LND's `route.Hop` convention: `pubKey` is the node reached over
/// `chanID`; `amtToForwardMsat` and `expiry` are what that node *sends on* (its onion payload's
/// `amt_to_forward` / `outgoing_cltv_value`; for the final hop, what it must receive);
/// `feeMsat` is the fee that node charges (0 for the final hop).
public struct RouteHop: Sendable, Equatable {
    public var pubKey: NodeID
    public var chanID: ShortChannelID
    public var amtToForwardMsat: UInt64
    public var feeMsat: UInt64
    public var expiry: UInt32
    /// Channel capacity in sat if known (0 for hint channels).
    public var chanCapacitySat: UInt64
    /// Final hop only: `payment_data`.
    public var mppRecord: PaymentData?
    /// Final hop only: custom TLV records (e.g. keysend 5482373484 → preimage).
    public var customRecords: [UInt64: [UInt8]]

    public init(pubKey: NodeID, chanID: ShortChannelID, amtToForwardMsat: UInt64, feeMsat: UInt64, expiry: UInt32,
                chanCapacitySat: UInt64 = 0, mppRecord: PaymentData? = nil, customRecords: [UInt64: [UInt8]] = [:]) {
        self.pubKey = pubKey
        self.chanID = chanID
        self.amtToForwardMsat = amtToForwardMsat
        self.feeMsat = feeMsat
        self.expiry = expiry
        self.chanCapacitySat = chanCapacitySat
        self.mppRecord = mppRecord
        self.customRecords = customRecords
    }
}

/// A source route (LND `route.Route`): what the sender locks on its first channel
/// (`totalAmountMsat`, `totalTimeLock`) and the hops after it.
public struct SourceRoute: Sendable, Equatable {
    /// TLV type of the keysend preimage record (LND `record.KeySendType`).
    public static let keysendRecordType: UInt64 = 5_482_373_484
    /// BOLT 4 / LND limit on hops.
    public static let maxHops = 20

    public var source: NodeID
    public var totalTimeLock: UInt32
    public var totalAmountMsat: UInt64
    public var hops: [RouteHop]

    public init(source: NodeID, totalTimeLock: UInt32, totalAmountMsat: UInt64, hops: [RouteHop]) {
        self.source = source
        self.totalTimeLock = totalTimeLock
        self.totalAmountMsat = totalAmountMsat
        self.hops = hops
    }

    /// The amount the final hop receives.
    public var receiverAmountMsat: UInt64 { hops.last?.amtToForwardMsat ?? 0 }
    /// Sum of all hop fees (`total_fees_msat`).
    public var totalFeesMsat: UInt64 { totalAmountMsat - receiverAmountMsat }
    /// The node the payment goes to.
    public var destination: NodeID? { hops.last?.pubKey }

    /// Amount of the HTLC arriving at `hops[i]` over `hops[i].chanID`.
    public func incomingAmountMsat(ofHop i: Int) -> UInt64 { i == 0 ? totalAmountMsat : hops[i - 1].amtToForwardMsat }
    /// CLTV expiry of the HTLC arriving at `hops[i]`.
    public func incomingExpiry(ofHop i: Int) -> UInt32 { i == 0 ? totalTimeLock : hops[i - 1].expiry }

    /// Node at LND failure-source index `k` (0 = source, `i + 1` = `hops[i]`).
    public func node(atSourceIndex k: Int) -> NodeID? {
        if k == 0 { return source }
        return k - 1 < hops.count ? hops[k - 1].pubKey : nil
    }

    /// One hop to build a route from: the node reached, the channel used, and the policy the
    /// *previous* node (the one forwarding over `chanID`) announces for it. The first hop's policy
    /// is the sender's own and is ignored (a sender charges itself nothing).
    public struct Segment: Sendable, Equatable {
        public var node: NodeID
        public var chanID: ShortChannelID
        public var policy: RoutingPolicy
        public var capacitySat: UInt64
        public init(node: NodeID, chanID: ShortChannelID, policy: RoutingPolicy, capacitySat: UInt64 = 0) {
            self.node = node; self.chanID = chanID; self.policy = policy; self.capacitySat = capacitySat
        }
    }

    /// Builds a route delivering exactly `amountMsat` over `segments` (LND `newRoute`), walking
    /// backwards from the payee: the node at hop i forwards `amt_i` over hop i+1's channel and
    /// charges `fee_i = policy_{i+1}.fee(amt_i)` (BOLT 7); `amt_{i-1} = amt_i + fee_i`. Expiries:
    /// the final hop gets `currentHeight + finalCLTVDelta`; each forwarding node adds its
    /// `cltv_expiry_delta` (BOLT 4/7). Returns nil for an empty path.
    public static func build(source: NodeID, segments: [Segment], amountMsat: UInt64, finalCLTVDelta: UInt32,
                             currentHeight: UInt32, mppRecord: PaymentData? = nil,
                             customRecords: [UInt64: [UInt8]] = [:]) -> SourceRoute? {
        guard !segments.isEmpty else { return nil }
        let n = segments.count
        var hops = [RouteHop]()
        hops.reserveCapacity(n)
        var amount = amountMsat                         // amt_i: what hop i forwards (receives, if final)
        var expiry = currentHeight &+ finalCLTVDelta    // out_i: the expiry hop i forwards with
        for i in stride(from: n - 1, through: 0, by: -1) {
            let s = segments[i]
            // fee_i: charged by hop i for forwarding amt_i over hop i+1's channel.
            let fee: UInt64 = i == n - 1 ? 0 : segments[i + 1].policy.fee(forwarding: amount)
            var hop = RouteHop(pubKey: s.node, chanID: s.chanID, amtToForwardMsat: amount, feeMsat: fee,
                               expiry: expiry, chanCapacitySat: s.capacitySat)
            if i == n - 1 {
                hop.mppRecord = mppRecord
                hop.customRecords = customRecords
            }
            hops.append(hop)
            // The HTLC arriving at hop i carries amt_i + fee_i and out_i + delta_i.
            amount &+= fee
            if i < n - 1 { expiry &+= segments[i + 1].policy.timeLockDelta }
        }
        hops.reverse()
        return SourceRoute(source: source, totalTimeLock: expiry, totalAmountMsat: amount, hops: hops)
    }
}
