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
        flags: InvoiceFieldFlags.flags()) { inv in
        try inv.expectAtMost(2)
        var req = Invoicesrpc.AddHoldInvoiceRequest()
        guard let hash = inv.positionals.first else { throw CLIError.usage("hash argument missing") }
        req.hash = try Parse.hex(hash, what: "hash")
        try InvoiceFieldFlags.fill(&req, from: inv, amountAt: 1)
        Output.printMessage(try inv.connection().unary(MoreRPCPath.addHoldInvoice, req, as: Invoicesrpc.AddHoldInvoiceResp.self))
    }

    static let settleInvoice = Command(
        "settleinvoice", arguments: "preimage",
        summary: "Reveal a preimage and use it to settle the corresponding invoice.",
        details: "Todo.",
        flags: [Flag("preimage", value: "HEX", help: "the hex-encoded preimage (32 byte) which will allow settling an incoming HTLC payable to this preimage")]) { inv in
        var req = Invoicesrpc.SettleInvoiceMsg()
        req.preimage = try inv.soleHexArgument("preimage")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.settleInvoice, req, as: Invoicesrpc.SettleInvoiceResp.self))
    }

    static let cancelInvoice = Command(
        "cancelinvoice", arguments: "paymenthash",
        summary: "Cancels a (hold) invoice.",
        details: "Todo.",
        flags: [Flag("paymenthash", value: "HEX", help: "the hex-encoded payment hash (32 byte) for which the corresponding invoice will be canceled.")]) { inv in
        var req = Invoicesrpc.CancelInvoiceMsg()
        req.paymentHash = try inv.soleHexArgument("paymenthash")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.cancelInvoice, req, as: Invoicesrpc.CancelInvoiceResp.self))
    }

    static let subscribeInvoice = Command(
        "subscribeinvoice", arguments: "rhash",
        summary: "Follow one invoice's state (SubscribeSingleInvoice).",
        details: "Prints the invoice's current state (if it exists), then the invoice at every state change\n(OPEN, ACCEPTED, SETTLED, CANCELED); exits after SETTLED or CANCELED.",
        flags: [Flag("rhash", value: "HEX", help: "the 32 byte payment hash of the invoice, hex-encoded")]) { inv in
        var req = Invoicesrpc.SubscribeSingleInvoiceRequest()
        req.rHash = try inv.soleHexArgument("rhash")
        try inv.connection().serverStreaming(MoreRPCPath.subscribeSingleInvoice, req, as: Lnrpc.Invoice.self) { Output.printMessage($0) }
    }
}
