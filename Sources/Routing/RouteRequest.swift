/// What to find a route for, with LND's `RouteRestrictions` and SendPaymentV2 options.
public struct RouteRequest: Sendable {
    /// Largest amount LDK accepts (21e6 BTC in msat); above it no route is attempted.
    public static let maxValueMsat: UInt64 = 21_000_000 * 100_000_000 * 1000
    /// LND `--max-cltv-expiry` default (blocks): the cltv limit when none is given.
    public static let defaultMaxCLTVExpiry: UInt32 = 2016

    public var source: NodeID
    public var target: NodeID
    /// Amount the payee must receive.
    public var amountMsat: UInt64
    /// Payee's `min_final_cltv_expiry_delta` (BOLT 11 `c`, default 18; LND keysend uses 40).
    public var finalCLTVDelta: UInt32
    public var currentHeight: UInt32
    /// Maximum total fees; 0 means only zero-fee routes. Default: no limit.
    public var feeLimitMsat: UInt64
    /// Maximum blocks locked (total time lock − current height); LND's `cltv_limit`.
    public var cltvLimit: UInt32
    public var routeHints: [RouteHint]
    /// Only these first-hop channels may be used (LND `outgoing_chan_ids`); empty = any.
    public var outgoingChanIDs: Set<ShortChannelID>
    /// The node before the payee must be this one (LND `last_hop_pubkey`).
    public var lastHopPubKey: NodeID?
    /// Spendable msat per channel of the source (LND bandwidth hints). Channels of the source
    /// missing here are treated as unusable; nil means "use capacity" (no local knowledge).
    public var localBandwidthMsat: [ShortChannelID: UInt64]?
    /// Final hop payload: `payment_data`.
    public var mppRecord: PaymentData?
    /// Final hop custom records (keysend: `SourceRoute.keysendRecordType` → preimage).
    public var destCustomRecords: [UInt64: [UInt8]]
    /// Channels not to use at all (e.g. already failed permanently for this payment).
    public var excludedChannels: Set<ShortChannelID>
    /// Hop limit (BOLT 4: 20).
    public var maxHops: Int

    public init(source: NodeID, target: NodeID, amountMsat: UInt64, finalCLTVDelta: UInt32 = 18,
                currentHeight: UInt32, feeLimitMsat: UInt64 = .max, cltvLimit: UInt32 = RouteRequest.defaultMaxCLTVExpiry,
                routeHints: [RouteHint] = [], outgoingChanIDs: Set<ShortChannelID> = [], lastHopPubKey: NodeID? = nil,
                localBandwidthMsat: [ShortChannelID: UInt64]? = nil, mppRecord: PaymentData? = nil,
                destCustomRecords: [UInt64: [UInt8]] = [:], excludedChannels: Set<ShortChannelID> = [],
                maxHops: Int = SourceRoute.maxHops) {
        self.source = source
        self.target = target
        self.amountMsat = amountMsat
        self.finalCLTVDelta = finalCLTVDelta
        self.currentHeight = currentHeight
        self.feeLimitMsat = feeLimitMsat
        self.cltvLimit = cltvLimit
        self.routeHints = routeHints
        self.outgoingChanIDs = outgoingChanIDs
        self.lastHopPubKey = lastHopPubKey
        self.localBandwidthMsat = localBandwidthMsat
        self.mppRecord = mppRecord
        self.destCustomRecords = destCustomRecords
        self.excludedChannels = excludedChannels
        self.maxHops = maxHops
    }

    /// True when the final hop carries a keysend preimage (keysend never splits: LND refuses
    /// a max shard size with keysend, LDK 0.0.113 never uses MPP for it).
    public var isKeysend: Bool { destCustomRecords[SourceRoute.keysendRecordType] != nil }
}
