import BOLT11

/// lnrpc `Invoice.InvoiceState`.
public enum InvoiceState: Int32, Sendable, Equatable {
    case open = 0, settled = 1, canceled = 2, accepted = 3

    /// SETTLED and CANCELED never change again (LND `ContractState.IsFinal`).
    public var isFinal: Bool { self == .settled || self == .canceled }
}

/// lnrpc `InvoiceHTLCState`.
public enum InvoiceHTLCState: Int32, Sendable, Equatable {
    case accepted = 0, settled = 1, canceled = 2
}

/// One HTLC paying an invoice (lnrpc `InvoiceHTLC`).
public struct InvoiceHTLC: Sendable, Equatable {
    public var chanID: UInt64
    public var htlcIndex: UInt64
    public var amtMsat: UInt64
    public var acceptHeight: Int32
    /// Unix seconds.
    public var acceptTime: Int64
    /// Unix seconds; 0 while the HTLC is held.
    public var resolveTime: Int64
    public var expiryHeight: Int32
    public var state: InvoiceHTLCState
    public var customRecords: [UInt64: [UInt8]]
    /// The MPP record's `total_amt_msat` (the amount itself for a single-part payment).
    public var mppTotalAmtMsat: UInt64

    public init(chanID: UInt64, htlcIndex: UInt64, amtMsat: UInt64, acceptHeight: Int32, acceptTime: Int64,
                resolveTime: Int64, expiryHeight: Int32, state: InvoiceHTLCState,
                customRecords: [UInt64: [UInt8]], mppTotalAmtMsat: UInt64) {
        self.chanID = chanID
        self.htlcIndex = htlcIndex
        self.amtMsat = amtMsat
        self.acceptHeight = acceptHeight
        self.acceptTime = acceptTime
        self.resolveTime = resolveTime
        self.expiryHeight = expiryHeight
        self.state = state
        self.customRecords = customRecords
        self.mppTotalAmtMsat = mppTotalAmtMsat
    }
}

/// An invoice as this node stores it: every field `lnrpc.Invoice` carries (names follow its
/// json_name; amounts kept in msat with the sat views LND also returns).
public struct Invoice: Sendable, Equatable {
    public var memo: String
    /// The preimage; nil for a hold invoice until it is settled, and for AMP invoices.
    public var rPreimage: [UInt8]?
    public var rHash: [UInt8]
    public var valueMsat: Int64
    /// Unix seconds.
    public var creationDate: Int64
    /// Unix seconds; 0 until settled.
    public var settleDate: Int64
    public var paymentRequest: String
    public var descriptionHash: [UInt8]
    /// Seconds.
    public var expiry: Int64
    public var fallbackAddr: String
    public var cltvExpiry: UInt64
    public var routeHints: [[HopHint]]
    public var isPrivate: Bool
    public var addIndex: UInt64
    /// 0 until settled.
    public var settleIndex: UInt64
    public var amtPaidMsat: Int64
    public var state: InvoiceState
    public var htlcs: [InvoiceHTLC]
    public var features: FeatureVector
    public var isKeysend: Bool
    public var paymentAddr: [UInt8]
    public var isAmp: Bool
    /// A hold invoice: created from a hash, settled by `InvoiceRegistry.settleInvoice(preimage:)`.
    public var isHold: Bool

    /// `value` (sat, truncated).
    public var value: Int64 { valueMsat / 1000 }
    /// `amt_paid_sat`, and the deprecated `amt_paid`.
    public var amtPaidSat: Int64 { amtPaidMsat / 1000 }
    /// The deprecated `settled` flag.
    public var settled: Bool { state == .settled }
    /// `features` as LND's map.
    public var featureMap: [UInt32: FeatureInfo] { features.lndFeatureMap }

    /// True once `now` is past creation + expiry.
    public func isExpired(now: Int64) -> Bool { now > creationDate + expiry }
}
