import Routing

/// An HTLC in flight on one of a node's channels, as the node sees it (`lnrpc.HTLC`).
public struct ChannelHTLC: Sendable, Equatable {
    /// Offered to this node by its peer (true) or by this node to its peer (false).
    public let incoming: Bool
    public let amountMsat: UInt64
    public let paymentHash: [UInt8]
    public let expirationHeight: UInt32
    public let htlcIndex: UInt64
}

extension SimulatedNetwork {
    /// The HTLCs in flight on `scid` seen from `node` (oldest id first): locked amounts that are
    /// neither settled nor failed yet — held by a hold invoice, say (on any replica sharing the
    /// ledger).
    public func pendingHTLCs(on scid: ShortChannelID, of node: NodeID) -> [ChannelHTLC] {
        guard let d = withLock({ () -> Int? in
            guard let c = channelIndex[scid], let n = nodeIndex[node] else { return nil }
            return channels[c].direction(from: n)
        }) else { return [] }
        return ((try? ledger.holds(on: scid)) ?? []).map {
            ChannelHTLC(incoming: $0.direction != d, amountMsat: $0.amountMsat, paymentHash: $0.paymentHash,
                        expirationHeight: $0.expiry, htlcIndex: $0.htlcID)
        }
    }

    /// Number of HTLCs in flight anywhere in the network.
    public var pendingHTLCCount: Int { (try? ledger.inFlightCount()) ?? 0 }
}
