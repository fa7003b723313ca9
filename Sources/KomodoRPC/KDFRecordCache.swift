import Locks
import Payments

/// Recently read KDF records by payment hash, at most `capacity` of them (an arbitrary one is
/// dropped to make room), so get_payment_details of a payment just made or watched does not reach
/// SQLite.
///
/// Contract (with `KDFPaymentStore`): every write invalidates its hash after its statement ran
/// (`invalidate`, `invalidateAll`), which also moves the generation on; a reader that missed takes
/// the generation with its miss and inserts what it read from SQLite only if no write happened in
/// between (`insert(_:ifStill:)`), so a row read before a write can never outlive that write.
final class KDFRecordCache: @unchecked Sendable {
    private let lock = Lock()
    private var records: [String: KDFPaymentRecord] = [:]
    private var generation: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        records.reserveCapacity(capacity)
    }

    /// The cached record, or nil and the generation to hand back to `insert`.
    func lookup(_ hash: String) -> (KDFPaymentRecord?, UInt64) {
        lock.withLock { (records[hash], generation) }
    }

    func insert(_ record: KDFPaymentRecord, ifStill expected: UInt64) {
        lock.withLock {
            guard generation == expected else { return }
            if records.count >= capacity, records[record.paymentHash] == nil, let victim = records.keys.first {
                records[victim] = nil
            }
            records[record.paymentHash] = record
        }
    }

    func invalidate(_ hash: String) {
        lock.withLock {
            generation &+= 1
            records[hash] = nil
        }
    }

    func invalidateAll() {
        lock.withLock {
            generation &+= 1
            records.removeAll(keepingCapacity: true)
        }
    }

    var count: Int { lock.withLock { records.count } }
}
