import BOLT11
import LightningPrimitives

/// Errors of the invoice registry; `description` is LND's exact text where LND has one, and
/// `grpcStatusCode` the code LND's RPC server returns with it (2 = Unknown unless stated).
public enum InvoiceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// AddInvoice: `r_preimage` not 32 bytes (lntypes.MakePreimage).
    case invalidPreimageLength(Int)
    /// AddInvoice: both `value` and `value_msat` set (lnrpc.ErrSatMsatMutualExclusive).
    case satMsatMutuallyExclusive
    /// AddInvoice: a negative amount.
    case negativeAmount
    /// AddInvoice: more than the maximum payment.
    case paymentTooLarge(amountMsat: UInt64, maxMsat: UInt64)
    /// AddInvoice: memo over 1024 bytes (channeldb.MaxMemoSize).
    case memoTooLarge(Int)
    /// AddInvoice: `description_hash` not 32 bytes.
    case invalidDescriptionHashLength(Int)
    /// AddInvoice: `fallback_addr` is not an address of this network.
    case invalidFallbackAddress(String)
    /// AddInvoice: a negative expiry or one over a year.
    case invalidExpiry(Int64)
    /// AddInvoice: `cltv_expiry` below the 18-block minimum (routing.MinCLTVDelta).
    case cltvTooSmall(UInt64)
    /// AddInvoice: `cltv_expiry` above 65535.
    case cltvTooLarge(UInt64)
    /// AddInvoice: a preimage or hash was given for an AMP invoice.
    case ampWithPreimage
    /// AddInvoice: an invoice with this payment hash exists (invoices.ErrDuplicateInvoice).
    case duplicateInvoice
    /// AddInvoice: the BOLT 11 writer refused the fields (e.g. a memo over 639 bytes).
    case encoding(Bolt11EncodingError)
    /// LookupInvoice: the hash is not 32 bytes.
    case invalidHashLength(Int)
    /// LookupInvoice: `r_hash_str` is not hex (Go's encoding/hex message).
    case invalidHex(String)
    /// LookupInvoice and others: no such invoice (invoices.ErrInvoiceNotFound). gRPC NotFound.
    case notFound
    /// LookupInvoice on an empty database (invoices.ErrNoInvoicesCreated). gRPC NotFound.
    case noInvoicesCreated
    /// ListInvoices: creation_date_start >= creation_date_end (both set).
    case invalidDateRange(start: UInt64, end: UInt64)
    /// DecodePayReq: the invoice is for another chain.
    case wrongNetwork(Currency)
    /// DecodePayReq: the string is not an invoice LND's reader accepts (its zpay32 text).
    case invalidPaymentRequest(ZPay32Error)
    /// SettleInvoice on a hold invoice whose HTLCs have not all arrived (invoices.ErrInvoiceStillOpen).
    case invoiceStillOpen
    /// Settle/Cancel on a settled invoice (invoices.ErrInvoiceAlreadySettled).
    case alreadySettled
    /// Settle on a canceled invoice (invoices.ErrInvoiceAlreadyCanceled).
    case alreadyCanceled
    /// SubscribeInvoices: the subscriber did not drain its bounded queue in time.
    case subscriberTooSlow(limit: Int)
    /// SQLite failed.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidPreimageLength(let n): return "invalid preimage length of \(n), want 32"
        case .satMsatMutuallyExclusive: return "sat and msat arguments are mutually exclusive"
        case .negativeAmount: return "amount cannot be negative"
        case let .paymentTooLarge(a, m): return "payment of \(a) mSAT is too large, max payment allowed is \(m) mSAT"
        case .memoTooLarge(let n): return "memo too large: \(n) bytes (maxlen=1024)"
        case .invalidDescriptionHashLength(let n): return "description hash is \(n) bytes, must be 32"
        case .invalidFallbackAddress(let a): return "could not parse fallback address: invalid address \(a)"
        case .invalidExpiry(let e): return "expiry of \(e) seconds is invalid: must be between 0 and 31536000"
        case .cltvTooSmall(let c): return "CLTV delta of \(c) must be greater than minimum of 18"
        case .cltvTooLarge(let c): return "CLTV delta of \(c) is too large, max accepted is: 65535"
        case .ampWithPreimage: return "AMP invoices cannot have a preimage or payment hash set"
        case .duplicateInvoice: return "invoice with payment hash already exists"
        case .encoding(let e): return "unable to encode invoice: \(e)"
        case .invalidHashLength(let n): return "payment hash must be exactly 32 bytes, is instead \(n)"
        case .invalidHex(let m): return m
        case .notFound: return "unable to locate invoice"
        case .noInvoicesCreated: return "there are no existing invoices"
        case let .invalidDateRange(s, e): return "start date(\(s)) must be before end date(\(e))"
        case .wrongNetwork(let c): return "invoice not for current active network '\(c.lndNetworkName)'"
        case .invalidPaymentRequest(let e): return e.text
        case .invoiceStillOpen: return "invoice still open"
        case .alreadySettled: return "invoice already settled"
        case .alreadyCanceled: return "invoice already canceled"
        case .subscriberTooSlow(let n): return "invoice subscriber fell more than \(n) updates behind"
        case .storage(let m): return "invoice store: \(m)"
        }
    }

    /// The gRPC status code LND answers with.
    public var grpcStatusCode: Int32 {
        switch self {
        case .notFound, .noInvoicesCreated: return 5
        case .subscriberTooSlow: return 8
        default: return 2
        }
    }
}

/// Go's `hex.DecodeString` error text for `text`, nil when it decodes (shared `Hex.decodeFailure`).
func goHexError(_ text: String) -> String? { Hex.decodeFailure(text)?.description }
