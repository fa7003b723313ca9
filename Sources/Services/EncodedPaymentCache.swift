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
    private struct State {
        var messages: [PaymentHash: (version: UInt64, message: EncodedMessage)] = [:]
        var order: [PaymentHash] = []
        var head = 0
    }
    private let state = LockedValue(State())
    let capacity: Int

    init(capacity: Int = 8192) { self.capacity = capacity }

    func message(for s: PaymentSnapshot) -> EncodedMessage? {
        state.withLock { st in
            guard let e = st.messages[s.paymentHash], e.version == s.version else { return nil }
            return e.message
        }
    }

    /// Keeps `message` as the encoding of `s` (replacing an older version of the same payment).
    func store(_ message: EncodedMessage, for s: PaymentSnapshot) {
        state.withLock { st in
            guard st.messages.updateValue((s.version, message), forKey: s.paymentHash) == nil else { return }
            st.order.append(s.paymentHash)
            if st.messages.count > capacity {
                let evict = st.order[st.head]
                st.head += 1
                st.messages[evict] = nil
                if st.head > capacity {
                    st.order.removeFirst(st.head)
                    st.head = 0
                }
            }
        }
    }
}
