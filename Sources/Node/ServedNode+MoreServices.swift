import RPCCore
import Services

extension ServedNode {
    /// The services of LND's wider payment and invoice API (issue 15), kept apart from
    /// `services(config:work:)` so that list stays short: invoicesrpc, and the legacy payment
    /// calls of lnrpc and routerrpc (LND <= 0.20). Services that share a name with an existing
    /// one add methods to it (the router merges method tables by service name).
    func moreServices(marshaller: PaymentMarshaller, parser: SendPaymentRequestParser, sender: PaymentSending,
                      work: BlockingWork) -> [RPCService] {
        [
            InvoicesService(registry: invoices, currency: currency, work: work,
                            privateHints: { [unowned self] in privateHopHints() }),
            LegacyLightningPayments(router: router, tower: tower, parser: LegacySendRequestParser(v2: parser),
                                    marshaller: marshaller, work: work),
            LegacyRouterPayments(tower: tower, marshaller: marshaller, work: work, sender: sender),
            LightningGraph(network: network, node: nodeID, features: nodeInfo().features, work: work),
            LightningRoutes(router: router, marshaller: marshaller, maxCLTVExpiry: parser.maxCLTVExpiry, work: work),
            RouterRoutes(router: router, tower: tower, marshaller: marshaller, sender: sender, currency: currency,
                         maxCLTVExpiry: parser.maxCLTVExpiry, work: work),
            HTLCEventsService(network: network, node: nodeID),
        ]
    }
}
