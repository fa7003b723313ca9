import LightningRPC

/// gRPC paths of the commands added for LND's wider payment and invoice API.
enum MoreRPCPath {
    static let addHoldInvoice = "/invoicesrpc.Invoices/AddHoldInvoice"
    static let settleInvoice = "/invoicesrpc.Invoices/SettleInvoice"
    static let cancelInvoice = "/invoicesrpc.Invoices/CancelInvoice"
    static let subscribeSingleInvoice = "/invoicesrpc.Invoices/SubscribeSingleInvoice"
    static let channelBalance = "/lnrpc.Lightning/ChannelBalance"
    static let listChannels = "/lnrpc.Lightning/ListChannels"
    static let describeGraph = "/lnrpc.Lightning/DescribeGraph"
    static let getNodeInfo = "/lnrpc.Lightning/GetNodeInfo"
    static let getChanInfo = "/lnrpc.Lightning/GetChanInfo"
    static let queryRoutes = "/lnrpc.Lightning/QueryRoutes"
    static let estimateRouteFee = "/routerrpc.Router/EstimateRouteFee"
    static let buildRoute = "/routerrpc.Router/BuildRoute"
    static let sendToRouteV2 = "/routerrpc.Router/SendToRouteV2"
    static let queryMissionControl = "/routerrpc.Router/QueryMissionControl"
    static let resetMissionControl = "/routerrpc.Router/ResetMissionControl"
    static let queryProbability = "/routerrpc.Router/QueryProbability"
}

/// Hold-invoice commands (lncli's invoicesrpc commands): addholdinvoice, settleinvoice,
/// cancelinvoice, and subscribeinvoice (SubscribeSingleInvoice).
enum HoldInvoiceCommands {
    static let addHoldInvoice = Command(
        "addholdinvoice", arguments: "hash [amt]",
        summary: "Add a new hold invoice.",
        details: "Add a new invoice, expressing intent for a future payment.\nInvoices without an amount can be created by not supplying any parameters or providing an amount of 0. These invoices allow the payee to specify any amount of satoshis to be paid.\nThe invoice is held: once its HTLCs arrive it is ACCEPTED, until settleinvoice (with the preimage) or cancelinvoice.",
        flags: [
            Flag("memo", value: "TEXT", help: "a description of the payment to attach along with the invoice"),
            Flag("amt", value: "SAT", help: "the amt of satoshis in this invoice"),
            Flag("amt_msat", value: "MSAT", help: "the amt of millisatoshis in this invoice"),
            Flag("description_hash", value: "HEX", help: "SHA-256 hash of the description of the payment; used instead of memo in the payment request"),
            Flag("fallback_addr", value: "ADDR", help: "fallback on-chain address"),
            Flag("expiry", value: "SECONDS", help: "the invoice's expiry time in seconds", default: "86400 (server)"),
            Flag("cltv_expiry_delta", value: "BLOCKS", help: "the minimum CLTV delta for the final hop"),
            Flag("private", help: "encode routing hints for private channels in the payment request"),
        ]) { inv in
        try inv.expectAtMost(2)
        let f = inv.flags
        var req = Invoicesrpc.AddHoldInvoiceRequest()
        guard let hash = inv.positionals.first else { throw CLIError.usage("hash argument missing") }
        req.hash = try Parse.hex(hash, what: "hash")
        req.memo = f.string("memo") ?? ""
        if let amt = try f.int64("amt") { req.value = amt }
        else if inv.positionals.count > 1 {
            guard let v = Int64(inv.positionals[1]) else { throw CLIError.usage("unable to decode amt argument: \"\(inv.positionals[1])\"") }
            req.value = v
        }
        if let msat = try f.int64("amt_msat") { req.valueMsat = msat }
        if let d = f.string("description_hash") { req.descriptionHash = try Parse.hex(d, what: "description hash") }
        req.fallbackAddr = f.string("fallback_addr") ?? ""
        if let e = try f.int64("expiry") { req.expiry = e }
        if let c = try f.uint64("cltv_expiry_delta") { req.cltvExpiry = c }
        req.private = f.bool("private")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.addHoldInvoice, req, as: Invoicesrpc.AddHoldInvoiceResp.self))
    }

    static let settleInvoice = Command(
        "settleinvoice", arguments: "preimage",
        summary: "Reveal a preimage and use it to settle the corresponding invoice.",
        details: "Todo.",
        flags: [Flag("preimage", value: "HEX", help: "the hex-encoded preimage (32 byte) which will allow settling an incoming HTLC payable to this preimage")]) { inv in
        try inv.expectAtMost(1)
        var req = Invoicesrpc.SettleInvoiceMsg()
        req.preimage = try Parse.hex(try inv.argument(0, orFlag: "preimage", "preimage"), what: "preimage")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.settleInvoice, req, as: Invoicesrpc.SettleInvoiceResp.self))
    }

    static let cancelInvoice = Command(
        "cancelinvoice", arguments: "paymenthash",
        summary: "Cancels a (hold) invoice.",
        details: "Todo.",
        flags: [Flag("paymenthash", value: "HEX", help: "the hex-encoded payment hash (32 byte) for which the corresponding invoice will be canceled.")]) { inv in
        try inv.expectAtMost(1)
        var req = Invoicesrpc.CancelInvoiceMsg()
        req.paymentHash = try Parse.hex(try inv.argument(0, orFlag: "paymenthash", "paymenthash"), what: "paymenthash")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.cancelInvoice, req, as: Invoicesrpc.CancelInvoiceResp.self))
    }

    static let subscribeInvoice = Command(
        "subscribeinvoice", arguments: "rhash",
        summary: "Follow one invoice's state (SubscribeSingleInvoice).",
        details: "Prints the invoice's current state (if it exists), then the invoice at every state change\n(OPEN, ACCEPTED, SETTLED, CANCELED); exits after SETTLED or CANCELED.",
        flags: [Flag("rhash", value: "HEX", help: "the 32 byte payment hash of the invoice, hex-encoded")]) { inv in
        try inv.expectAtMost(1)
        var req = Invoicesrpc.SubscribeSingleInvoiceRequest()
        req.rHash = try Parse.hex(try inv.argument(0, orFlag: "rhash", "rhash"), what: "rhash")
        try inv.connection().serverStreaming(MoreRPCPath.subscribeSingleInvoice, req, as: Lnrpc.Invoice.self) { Output.printMessage($0) }
    }
}
