import RPCCore
import Payments
import Synchronization

/// The serialized `lnrpc.Payment` of recent terminal snapshots, keyed by payment hash and
/// checked against the snapshot version: TrackPaymentV2 of a finished payment then costs one
/// lookup and no marshalling. Bounded (FIFO eviction at `capacity` entries).
final class EncodedPaymentCache: Sendable {
    private struct State {
        var entries: [PaymentHash: (version: UInt64, bytes: [UInt8])] = [:]
        /// The same messages framed for streams (filled on first stream use), same bound.
        var framed: [PaymentHash: (version: UInt64, message: EncodedMessage)] = [:]
        var framedOrder: [PaymentHash] = []
        var framedHead = 0
        var order: [PaymentHash] = []
        var head = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 8192) { self.capacity = capacity }

    func bytes(for s: PaymentSnapshot) -> [UInt8]? {
        state.withLock { st in
            guard let e = st.entries[s.paymentHash], e.version == s.version else { return nil }
            return e.bytes
        }
    }

    func framed(for s: PaymentSnapshot) -> EncodedMessage? {
        state.withLock { st in
            guard let e = st.framed[s.paymentHash], e.version == s.version else { return nil }
            return e.message
        }
    }

    func storeFramed(_ message: EncodedMessage, for s: PaymentSnapshot) {
        state.withLock { st in
            if st.framed.updateValue((s.version, message), forKey: s.paymentHash) == nil {
                st.framedOrder.append(s.paymentHash)
                if st.framed.count > capacity {
                    let evict = st.framedOrder[st.framedHead]
                    st.framedHead += 1
                    st.framed[evict] = nil
                    if st.framedHead > capacity {
                        st.framedOrder.removeFirst(st.framedHead)
                        st.framedHead = 0
                    }
                }
            }
        }
    }

    func store(_ bytes: [UInt8], for s: PaymentSnapshot) {
        state.withLock { st in
            if st.entries.updateValue((s.version, bytes), forKey: s.paymentHash) == nil {
                st.order.append(s.paymentHash)
                if st.entries.count > capacity {
                    let evict = st.order[st.head]
                    st.head += 1
                    st.entries[evict] = nil
                    if st.head > capacity {
                        st.order.removeFirst(st.head)
                        st.head = 0
                    }
                }
            }
        }
    }
}
