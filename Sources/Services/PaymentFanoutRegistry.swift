import Locks
import Metrics
import RPCCore
import Payments
import Transport

/// The open `PaymentFanout` groups of the router: at most one per (event loop, payment).
///
/// A group is created by the first TrackPaymentV2 of a payment on a loop (which subscribes it to
/// the tower) and leaves the registry when it is over; the next subscriber on that loop then
/// starts a new one. Lookups and inserts for a loop's key happen on that loop only, so two
/// groups of one key never race; the lock only guards the shared dictionary.
final class PaymentFanoutRegistry: Sendable {
    typealias Group = PaymentFanout<ServerStreamWriter>

    private struct Key: Hashable {
        let loop: ObjectIdentifier
        let hash: PaymentHash
    }

    private let groups = LockedValue<[Key: Group]>([:])
    /// Given to every group (``PaymentFanout/deliveryLatency``).
    let deliveryLatency: Histogram?

    init(deliveryLatency: Histogram? = nil) { self.deliveryLatency = deliveryLatency }

    /// Open groups (diagnostics, tests).
    var count: Int { groups.withLock { $0.count } }

    /// The open group of `hash` on `loop` (the caller's loop), or a new one on `subscribe()`'s
    /// mailbox, woken onto `loop`.
    func group(for hash: PaymentHash, on loop: EventLoop, subscribe: () throws(PaymentError) -> PaymentMailbox,
               encode: @escaping (SnapshotBox) -> EncodedMessage) throws(PaymentError) -> Group {
        let key = Key(loop: ObjectIdentifier(loop), hash: hash)
        if let g = groups.withLock({ $0[key] }), !g.isOver { return g }
        let g = Group(mailbox: try subscribe(), encode: encode)
        g.deliveryLatency = deliveryLatency
        groups.withLock { $0[key] = g }
        g.onOver = { [weak self, weak g] in
            self?.groups.withLock { d in if let g, d[key] === g { d[key] = nil } }
        }
        g.mailbox.setWakeup { [loop, g] in loop.execute(g) }   // ends with the subscription (`over`)
        return g
    }
}
