import Routing

/// What a node's switch reports about one HTLC (LND's htlcswitch `HtlcNotifier`), as the simulated
/// network produces it for each node on an HTLC's path: the sender (SEND), forwarding nodes
/// (FORWARD) and the payee (RECEIVE).
public struct HTLCEvent: Sendable, Equatable {
    public enum Direction: Sendable, Equatable { case send, receive, forward }

    /// Why a node's own link refused an HTLC (LND `FailureDetail` of a `LinkError`).
    public enum LinkFailure: Sendable, Equatable {
        case noDetail
        case linkNotEligible
        case htlcExceedsMax
        case insufficientBalance
        /// The payee's invoice logic refused it.
        case invoiceRefused
        case mppInvoiceTimeout
    }

    public enum Kind: Sendable, Equatable {
        /// The HTLC was added to the outgoing channel.
        case forward
        /// The node's own link refused the HTLC: the wire failure it sent back and why.
        case linkFail(FailureMessage, LinkFailure)
        /// A downstream node failed the HTLC (details only in the payer's attempt).
        case forwardFail
        /// The preimage came back (or, at the payee, was released).
        case settle(preimage: [UInt8])
        /// An incoming HTLC's resolution is final on this node.
        case final(settled: Bool)
    }

    public let node: NodeID
    public let direction: Direction
    /// 0 for the sender's own HTLCs (LND `hop.Source`).
    public let incomingChannel: ShortChannelID?
    public let incomingHTLCID: UInt64
    /// Nil at the payee (LND `hop.Exit`).
    public let outgoingChannel: ShortChannelID?
    public let outgoingHTLCID: UInt64
    public let incomingTimelock: UInt32
    public let outgoingTimelock: UInt32
    public let incomingAmountMsat: UInt64
    public let outgoingAmountMsat: UInt64
    public let kind: Kind
}

extension SimulatedNetwork {
    /// Registers `handler` for the HTLC events of `node` (SubscribeHtlcEvents). It runs on the
    /// thread of the HTLC's progress, outside the network's lock, and must be quick (queue the
    /// event). Returns a token for `unsubscribeHTLCEvents`.
    public func subscribeHTLCEvents(node: NodeID, _ handler: @escaping @Sendable (HTLCEvent) -> Void) -> UInt64 {
        withLock {
            nextHTLCSubscriber += 1
            htlcSubscribers[node, default: [:]][nextHTLCSubscriber] = handler
            return nextHTLCSubscriber
        }
    }

    public func unsubscribeHTLCEvents(_ token: UInt64) {
        withLock {
            for node in htlcSubscribers.keys { htlcSubscribers[node]?.removeValue(forKey: token) }
            htlcSubscribers = htlcSubscribers.filter { !$0.value.isEmpty }
        }
    }

    /// Number of live HTLC event subscribers.
    public var htlcSubscriberCount: Int { withLock { htlcSubscribers.values.reduce(0) { $0 + $1.count } } }

    /// The event of the node at source index `k` of `route` (0 = sender, `hops.count` = payee).
    func htlcEvent(_ route: SourceRoute, _ k: Int, htlcID: UInt64, _ kind: HTLCEvent.Kind) -> HTLCEvent? {
        let n = route.hops.count
        guard let node = route.node(atSourceIndex: k) else { return nil }
        let direction: HTLCEvent.Direction = k == 0 ? .send : (k == n ? .receive : .forward)
        let inChan = k == 0 ? nil : route.hops[k - 1].chanID
        let outChan = k == n ? nil : route.hops[k].chanID
        return HTLCEvent(node: node, direction: direction, incomingChannel: inChan, incomingHTLCID: k == 0 ? 0 : htlcID,
                         outgoingChannel: outChan, outgoingHTLCID: k == n ? 0 : htlcID,
                         incomingTimelock: k == 0 ? 0 : route.incomingExpiry(ofHop: k - 1),
                         outgoingTimelock: k == n ? 0 : route.incomingExpiry(ofHop: k),
                         incomingAmountMsat: k == 0 ? 0 : route.incomingAmountMsat(ofHop: k - 1),
                         outgoingAmountMsat: k == n ? 0 : route.incomingAmountMsat(ofHop: k), kind: kind)
    }

    /// Delivers events to their nodes' subscribers (outside the lock). Cheap when nobody listens.
    func publish(_ events: [HTLCEvent?]) {
        let targets: [(HTLCEvent, [@Sendable (HTLCEvent) -> Void])] = withLock {
            guard !htlcSubscribers.isEmpty else { return [] }
            return events.compactMap { e in
                guard let e, let subs = htlcSubscribers[e.node], !subs.isEmpty else { return nil }
                return (e, Array(subs.values))
            }
        }
        for (e, subs) in targets { for s in subs { s(e) } }
    }
}
