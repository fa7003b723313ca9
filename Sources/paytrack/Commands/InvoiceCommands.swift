import LightningRPC

/// Invoice commands: addinvoice, lookupinvoice, listinvoices, decodepayreq.
enum InvoiceCommands {
    static let addInvoice = Command(
        "addinvoice", arguments: "[value] [preimage]",
        summary: "Add a new invoice.",
        details: "Add a new invoice, expressing intent for a future payment.\nInvoices without an amount can be created by not supplying any parameters or providing an amount of 0.",
        flags: InvoiceFieldFlags.flags(own: [
            Flag("preimage", value: "HEX", help: "the hex-encoded preimage (32 byte) which will allow settling an incoming HTLC payable to this preimage; random if unset"),
        ])) { inv in
        try inv.expectAtMost(2)
        var invoice = Lnrpc.Invoice()
        try InvoiceFieldFlags.fill(&invoice, from: inv, amountAt: 0)
        if let p = inv.flags.string("preimage") ?? (inv.positionals.count > 1 ? inv.positionals[1] : nil) {
            invoice.rPreimage = try Parse.hex(p, what: "preimage", length: 32)
        }
        let resp = try inv.connection().unary(RPCPath.addInvoice, invoice, as: Lnrpc.AddInvoiceResponse.self)
        Output.printMessage(resp)
    }

    static let lookupInvoice = Command(
        "lookupinvoice", arguments: "rhash",
        summary: "Lookup an existing invoice by its payment hash.",
        flags: [Flag("rhash", value: "HEX", help: "the 32 byte payment hash of the invoice to query for, hex-encoded")]) { inv in
        try inv.expectAtMost(1)
        var req = Lnrpc.PaymentHash()
        req.rHash = try Parse.paymentHash(try inv.argument(0, orFlag: "rhash", "rhash"))
        Output.printMessage(try inv.connection().unary(RPCPath.lookupInvoice, req, as: Lnrpc.Invoice.self))
    }

    static let listInvoices = Command(
        "listinvoices", summary: "List all invoices currently stored within the database. Any active debug invoices are ignored.",
        details: "Invoices are returned oldest first from index_offset, or newest first before it with --reversed.",
        flags: [
            Flag("pending_only", help: "toggles if all invoices should be returned, or only those that are currently unsettled"),
            Flag("index_offset", value: "N", help: "the index of an invoice that will be used as either the start or end of a query to determine which invoices should be returned in the response"),
            Flag("max_invoices", value: "N", help: "the max number of invoices to return", default: "100"),
            Flag("reversed", help: "page backwards from index_offset (newest first)"),
            Flag("creation_date_start", value: "UNIX", help: "timestamp in seconds; only invoices created at or after it"),
            Flag("creation_date_end", value: "UNIX", help: "timestamp in seconds; only invoices created at or before it"),
        ]) { inv in
        try inv.expectAtMost(0)
        let f = inv.flags
        var req = Lnrpc.ListInvoiceRequest()
        req.pendingOnly = f.bool("pending_only")
        req.indexOffset = try f.uint64("index_offset") ?? 0
        req.numMaxInvoices = try f.uint64("max_invoices") ?? 100
        req.reversed = f.bool("reversed")
        req.creationDateStart = try f.uint64("creation_date_start") ?? 0
        req.creationDateEnd = try f.uint64("creation_date_end") ?? 0
        Output.printMessage(try inv.connection().unary(RPCPath.listInvoices, req, as: Lnrpc.ListInvoiceResponse.self))
    }

    static let decodePayReq = Command(
        "decodepayreq", arguments: "pay_req",
        summary: "Decode a payment request.",
        details: "Decode the passed payment request revealing the destination, payment hash and value of the payment request.",
        flags: [Flag("pay_req", value: "PAYREQ", help: "the bech32 encoded payment request")]) { inv in
        try inv.expectAtMost(1)
        var req = Lnrpc.PayReqString()
        req.payReq = PayCommands.stripPrefix(try inv.argument(0, orFlag: "pay_req", "pay_req"))
        Output.printMessage(try inv.connection().unary(RPCPath.decodePayReq, req, as: Lnrpc.PayReq.self))
    }
}
