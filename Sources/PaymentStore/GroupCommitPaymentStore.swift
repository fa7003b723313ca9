import Payments

/// What both payment stores are alike in: their writes go through one `PaymentWriter` (group
/// commit on its own thread) and their reads through a `PaymentSessionPool`. This class carries
/// the write half of `PaymentPersistence` and the close, once for both;
/// `SQLitePaymentStore` and `PostgresPaymentStore` add their schema, sessions and reads.
///
/// Contract: the subclass builds the writer (its backend's transactor and the counters of its
/// `payment_meta`) and its pool, passes the writer and the pool's close to `init`, and the
/// writer's thread starts there.
/// `close()` (also at deinit) closes the pool, then drains the queued changes and stops the
/// writer; it is idempotent.
public class GroupCommitPaymentStore: @unchecked Sendable {
    let writer: PaymentWriter
    /// The read pool's `close`: true the first time.
    private let closeReaders: () -> Bool

    init(writer: PaymentWriter, closeReaders: @escaping () -> Bool) {
        self.writer = writer
        self.closeReaders = closeReaders
        writer.start()
    }

    deinit { close() }

    /// Drains queued changes, stops the writer and closes the sessions. Idempotent.
    public func close() {
        guard closeReaders() else { return }
        writer.stop()
    }

    // MARK: PaymentPersistence: writes

    public func write(_ writes: [PaymentWrite], completion: @escaping @Sendable (PaymentError?, Int) -> Void) {
        writer.submit(writes, completion: completion)
    }

    public var isWriterThread: Bool { writer.isWriterThread }
    public func flush() { writer.flush() }
    public var highWater: (paymentIndex: UInt64, updateStamp: Int64) { (writer.maxPaymentIndex, writer.maxUpdateNs) }
    /// Transactions committed by the writer so far (benchmarks: changes per transaction).
    public var committedBatches: UInt64 { writer.batches }

    public func observeCommits(_ observer: @escaping CommitObserver) { writer.observeCommits(observer) }
}
