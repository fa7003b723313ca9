import LightningRPC

/// The invoice fields addinvoice (`lnrpc.Invoice`) and addholdinvoice
/// (`invoicesrpc.AddHoldInvoiceRequest`) both set from lncli's flags: the two messages name
/// them alike, so one parser fills either.
protocol InvoiceFields {
    var memo: String { get set }
    var value: Int64 { get set }
    var valueMsat: Int64 { get set }
    var descriptionHash: [UInt8] { get set }
    var fallbackAddr: String { get set }
    var expiry: Int64 { get set }
    var cltvExpiry: UInt64 { get set }
    var `private`: Bool { get set }
}

extension Lnrpc.Invoice: InvoiceFields {}
extension Invoicesrpc.AddHoldInvoiceRequest: InvoiceFields {}

/// lncli's flags of addinvoice and addholdinvoice, and how they fill an `InvoiceFields` message.
enum InvoiceFieldFlags {
    /// The shared flags in lncli's order, with a command's own flags (`own`) after `--memo`
    /// where lncli lists them (addinvoice's `--preimage`).
    static func flags(own: [Flag] = []) -> [Flag] {
        [Flag("memo", value: "TEXT", help: "a description of the payment to attach along with the invoice")] + own + [
            Flag("amt", value: "SAT", help: "the amt of satoshis in this invoice"),
            Flag("amt_msat", value: "MSAT", help: "the amt of millisatoshis in this invoice"),
            Flag("description_hash", value: "HEX", help: "SHA-256 hash of the description of the payment; used instead of memo in the payment request"),
            Flag("fallback_addr", value: "ADDR", help: "fallback on-chain address"),
            Flag("expiry", value: "SECONDS", help: "the invoice's expiry time in seconds", default: "86400 (server)"),
            Flag("cltv_expiry_delta", value: "BLOCKS", help: "the minimum CLTV delta for the final hop"),
            Flag("private", help: "encode routing hints for private channels in the payment request"),
        ]
    }

    /// Sets `message`'s fields from the flags; the amount is `--amt`, else the positional at
    /// `amountAt` (lncli: `unable to decode amt argument` when it is not a number).
    static func fill<M: InvoiceFields>(_ message: inout M, from inv: Invocation, amountAt: Int) throws(CLIError) {
        let f = inv.flags
        message.memo = f.string("memo") ?? ""
        if let amt = try f.int64("amt") { message.value = amt }
        else if inv.positionals.count > amountAt {
            let text = inv.positionals[amountAt]
            guard let v = Int64(text) else { throw .usage("unable to decode amt argument: \"\(text)\"") }
            message.value = v
        }
        if let msat = try f.int64("amt_msat") { message.valueMsat = msat }
        if let d = f.string("description_hash") { message.descriptionHash = try Parse.hex(d, what: "description hash") }
        message.fallbackAddr = f.string("fallback_addr") ?? ""
        if let e = try f.int64("expiry") { message.expiry = e }
        if let c = try f.uint64("cltv_expiry_delta") { message.cltvExpiry = c }
        message.private = f.bool("private")
    }
}
