import BOLT11
import Invoices
import JSON
import Routing

extension KDFLightning {
    /// lightning-invoice's limit on `d` (639 bytes: 1023 five-bit values).
    static let maxDescriptionBytes = 639
    /// KDF `DEFAULT_INVOICE_EXPIRY`.
    static let defaultInvoiceExpiry: UInt32 = 3600
    /// LDK 0.0.113 `MIN_FINAL_CLTV_EXPIRY`, written as `c`.
    static let minFinalCLTVExpiry: UInt64 = 24

    static func signOrCreation(_ text: String) -> MMRPCError {
        MMRPCError(display: "Invoice signing or creation error: \(text)", errorType: "SignOrCreationError",
                   errorData: .string(text), httpStatus: 500, locations: [("generate_invoice", 101)])
    }

    /// `generate_invoice`: the node's own invoice in LDK's layout, and a Pending inbound record.
    func generateInvoice(_ params: JSONValue) throws(MMRPCError) -> JSONValue {
        var coin = "", description = ""
        var amount: UInt64?
        var expiry = Self.defaultInvoiceExpiry
        try parse { () throws(SerdeError) in
            var r = try ParamsReader(params, structName: "GenerateInvoiceRequest")
            r.field("coin", required: true) { v throws(SerdeError) in coin = try ParamsReader.string(v) }
            r.field("description", required: true) { v throws(SerdeError) in description = try ParamsReader.string(v) }
            r.field("amount_in_msat") { v throws(SerdeError) in amount = try ParamsReader.u64(v) }
            r.field("expiry") { v throws(SerdeError) in expiry = try ParamsReader.u32(v) }
            try r.decodeAll()
        }
        try findCoin(coin, method: "generate_invoice", line: 78)
        // LDK's create_inbound_payment / InvoiceBuilder checks.
        if let amount, amount > RouteRequest.maxValueMsat {
            throw Self.signOrCreation("The supplied millisatoshi amount was greater than the total bitcoin supply")
        }
        if description.utf8.count > Self.maxDescriptionBytes {
            throw Self.signOrCreation("The supplied description string was longer than 639 bytes")
        }
        var req = AddInvoiceRequest()
        req.layout = .ldkChannelManager
        req.memo = description
        req.valueMsat = Int64(amount ?? 0)
        req.expiry = Int64(expiry)
        req.cltvExpiry = Self.minFinalCLTVExpiry
        req.routeHints = node.routeHints()
        let created: AddInvoiceResult
        do { created = try node.invoices.addInvoice(req) } catch {
            switch error {
            case .storage(let text): throw .dbError(text, method: "generate_invoice", line: 104)
            case .encoding(.fieldTooLong(tag: "r", _)): throw Self.signOrCreation("The specified route has too many hops and can't be encoded")
            default: throw Self.signOrCreation("An error occurred during signing")
            }
        }
        let hash = Hex.encode(created.rHash)
        let now = node.now()
        do {
            try store.insertIfAbsent(KDFPaymentRecord(paymentHash: hash, direction: .inbound, description: description,
                                                      amountMsat: amount, feePaidMsat: nil, status: .pending,
                                                      createdAt: now, lastUpdated: now))
        } catch { throw .dbError("\(error)", method: "generate_invoice", line: 118) }
        return .object([JSONMember("payment_hash", .string(hash)), JSONMember("invoice", .string(created.paymentRequest))])
    }
}
import LightningPrimitives
