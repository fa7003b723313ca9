import Routing

/// One hop of an HTLC in flight: its amount locked on one channel direction (Lock held to read).
struct LockedHTLC: Sendable {
    let channel: Int
    /// 0: node1 → node2.
    let direction: Int
    let amountMsat: UInt64
    /// The HTLC's `cltv_expiry` on this channel.
    let expiry: UInt32
    let paymentHash: [UInt8]
    let htlcID: UInt64
}

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
    /// neither settled nor failed yet — held by a hold invoice, say.
    public func pendingHTLCs(on scid: ShortChannelID, of node: NodeID) -> [ChannelHTLC] {
        withLock {
            guard let c = channelIndex[scid], let n = nodeIndex[node], let d = channels[c].direction(from: n) else { return [] }
            return pendingHTLCs.values.flatMap { $0 }.filter { $0.channel == c }.sorted { $0.htlcID < $1.htlcID }.map {
                ChannelHTLC(incoming: $0.direction != d, amountMsat: $0.amountMsat, paymentHash: $0.paymentHash,
                            expirationHeight: $0.expiry, htlcIndex: $0.htlcID)
            }
        }
    }

    /// Number of HTLCs in flight anywhere in the network.
    public var pendingHTLCCount: Int { withLock { pendingHTLCs.count } }
}
