import Foundation

// paytrack: the command-line client for paytrackd (what lncli is to lnd). Flag parsing and
// wiring only: the framework lives in Framework/, one file per command family in Commands/.
signal(SIGPIPE, SIG_DFL)
Interrupt.install()

let application = Application(commands: [
    InfoCommands.getInfo,
    InvoiceCommands.addInvoice,
    InvoiceCommands.lookupInvoice,
    InvoiceCommands.listInvoices,
    InvoiceCommands.decodePayReq,
    PayCommands.payInvoice,
    PayCommands.sendPayment,
    TrackCommands.trackPayment,
    TrackCommands.trackPayments,
    PaymentListCommands.listPayments,
    PaymentListCommands.deletePayments,
    MacaroonCommands.bakeMacaroon,
    MacaroonCommands.listPermissions,
    HoldInvoiceCommands.addHoldInvoice,
    HoldInvoiceCommands.settleInvoice,
    HoldInvoiceCommands.cancelInvoice,
    HoldInvoiceCommands.subscribeInvoice,
    ChannelGraphCommands.channelBalance,
    ChannelGraphCommands.listChannels,
    ChannelGraphCommands.describeGraph,
    ChannelGraphCommands.getNodeInfo,
    ChannelGraphCommands.getChanInfo,
    RouteCommands.queryRoutes,
    RouteCommands.estimateRouteFee,
    RouteCommands.buildRoute,
    RouteCommands.sendToRoute,
    RouteCommands.queryMC,
    RouteCommands.resetMC,
    RouteCommands.queryProb,
    RouteCommands.queryMCProbability,
    CallCommand.call,
])
let code = application.run(Array(CommandLine.arguments.dropFirst()))
// As paytrackd's main: end without exit's handlers (OpenSSL's atexit cleanup could race with a
// client loop's thread still ending after an error path); stdio is flushed first.
fflush(nil)
_exit(code)
