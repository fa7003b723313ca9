import BOLT11
import Crypto

/// A decoded payment request in `lnrpc.PayReq`'s shape (LND's DecodePayReq): hex strings where
/// LND uses them, BOLT 11 defaults filled in (expiry 3600, cltv_expiry 18), `payment_addr` as 32
/// zero bytes when the invoice has none, `description_hash` "" when absent.
public struct PayReq: Sendable, Equatable {
    public var destination: String
    public var paymentHash: String
    public var numSatoshis: Int64
    public var timestamp: Int64
    public var expiry: Int64
    public var description: String
    public var descriptionHash: String
    public var fallbackAddr: String
    public var cltvExpiry: Int64
    public var routeHints: [[HopHint]]
    public var paymentAddr: [UInt8]
    public var numMsat: Int64
    public var features: [UInt32: FeatureInfo]

    public init(_ inv: Bolt11Invoice) {
        destination = Hex.encode(inv.payee.compressed)
        paymentHash = Hex.encode(inv.paymentHash)
        numMsat = Int64(clamping: inv.amountMsat ?? 0)
        numSatoshis = numMsat / 1000
        timestamp = Int64(clamping: inv.timestamp)
        expiry = Int64(clamping: inv.expiry)
        description = inv.description ?? ""
        descriptionHash = inv.descriptionHash.map { Hex.encode($0) } ?? ""
        fallbackAddr = inv.fallbacks.first?.address(on: inv.currency) ?? ""
        cltvExpiry = Int64(clamping: inv.minFinalCLTVExpiry)
        routeHints = inv.routeHints
        paymentAddr = inv.paymentSecret ?? [UInt8](repeating: 0, count: 32)
        features = inv.features.lndFeatureMap
    }

    /// Decodes `text` for a node on `network` as LND's zpay32 does, refusing with its texts (an
    /// invoice for another chain: `invoice not for current active network '<name>'`).
    public static func decode(_ text: String, network: Currency) throws(InvoiceError) -> PayReq {
        do { return PayReq(try ZPay32.decode(text, network: network)) } catch { throw .invalidPaymentRequest(error) }
    }
}
