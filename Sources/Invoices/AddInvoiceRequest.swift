import BOLT11

/// The AddInvoice inputs (the request fields of `lnrpc.Invoice` LND honours), plus the hold
/// invoice hash (invoicesrpc `AddHoldInvoiceRequest.hash`).
public struct AddInvoiceRequest: Sendable, Equatable {
    public var memo: String = ""
    /// 32 bytes, or empty to draw one.
    public var rPreimage: [UInt8] = []
    /// For a hold invoice: the payment hash, with `rPreimage` empty; settled later by preimage.
    public var holdPaymentHash: [UInt8]? = nil
    /// `value` in satoshis; exclusive with `valueMsat`.
    public var value: Int64 = 0
    public var valueMsat: Int64 = 0
    /// 32 bytes or empty. When set, the invoice carries `h` instead of `d`.
    public var descriptionHash: [UInt8] = []
    /// Seconds; 0 means 86400 (LND's default).
    public var expiry: Int64 = 0
    public var fallbackAddr: String = ""
    /// `min_final_cltv_expiry_delta`; 0 means the registry default (80, LND's).
    public var cltvExpiry: UInt64 = 0
    /// Route hints to write as `r` fields (the caller selects them, e.g. its private channels).
    public var routeHints: [[HopHint]] = []
    /// `private`: recorded on the invoice; the caller supplies the hints.
    public var isPrivate: Bool = false
    public var isAmp: Bool = false
    /// Which writer's invoice to make (field order, defaults, limits).
    public var layout: InvoiceLayout = .lnd

    public init() {}
}

/// The shape of a created invoice.
public enum InvoiceLayout: Sendable, Equatable {
    /// LND's AddInvoice: fields p, d|h, c, x, f, r…, s, 9; LND's amount limit; `expiry` 0 = 86400.
    case lnd
    /// LDK's `create_invoice_from_channelmanager` (lightning-invoice 0.21, as the Komodo DeFi
    /// Framework makes invoices): fields d, n, p, s, 9, c, x, r…; `n` always written; `x` written
    /// as given (0 included); no amount limit but BOLT 11's (the caller checks LDK's 21e6 BTC).
    case ldkChannelManager
}

/// AddInvoiceResponse fields.
public struct AddInvoiceResult: Sendable, Equatable {
    public var rHash: [UInt8]
    public var paymentRequest: String
    public var addIndex: UInt64
    public var paymentAddr: [UInt8]
}

/// ListInvoices query (lnrpc `ListInvoiceRequest`).
public struct InvoiceQuery: Sendable, Equatable {
    public var pendingOnly: Bool = false
    /// Exclusive add_index to start after (forward) or before (reversed); 0 = from the start/end.
    public var indexOffset: UInt64 = 0
    /// 0 means 100 (LND's default).
    public var numMaxInvoices: UInt64 = 0
    public var reversed: Bool = false
    /// Inclusive unix-seconds bounds; 0 = unbounded.
    public var creationDateStart: UInt64 = 0
    public var creationDateEnd: UInt64 = 0

    public init() {}
}

/// ListInvoiceResponse fields: the invoices in ascending add_index order and the add_index of
/// the first and last one (0 when empty).
public struct InvoiceSlice: Sendable, Equatable {
    public var invoices: [Invoice]
    public var firstIndexOffset: UInt64
    public var lastIndexOffset: UInt64
}
