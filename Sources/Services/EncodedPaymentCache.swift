import Caches
import Locks
import RPCCore
import Payments

/// The encoded `lnrpc.Payment` of recent snapshots, keyed by payment hash and checked against
/// the snapshot version: TrackPaymentV2 of a finished payment then costs one lookup and no
/// marshalling, and one update fanned out to many streams is marshalled once. An
/// `EncodedMessage` also carries the other faces' forms once computed (the REST gateway's JSON
/// line), so a REST or WebSocket subscriber of a cached version does not marshal either.
/// Bounded: FIFO eviction at `capacity` payments.
final class EncodedPaymentCache: Sendable {
    private let messages: LockedValue<FIFOCache<PaymentHash, (version: UInt64, message: EncodedMessage)>>
    var capacity: Int { messages.withLock { $0.capacity } }

    init(capacity: Int = 8192) { messages = LockedValue(FIFOCache(capacity: capacity)) }

    func message(for s: PaymentSnapshot) -> EncodedMessage? {
        messages.withLock { cache in
            guard let e = cache[s.paymentHash], e.version == s.version else { return nil }
            return e.message
        }
    }

    /// Keeps `message` as the encoding of `s` (replacing the encoding of another version of the same payment).
    func store(_ message: EncodedMessage, for s: PaymentSnapshot) {
        messages.withLock { $0.insert((s.version, message), forKey: s.paymentHash) }
    }
}
