import Payments

// The control tower's mailboxes are the pull sources of the payment streams.
/// A payment mailbox yields the shared `SnapshotBox` of each update (not a copy of the snapshot):
/// the pump encodes it through the box's memo, so a fan-out of one update to many streams
/// encodes once and then costs each stream one lock-free load.
extension PaymentMailbox: PollableSource {
    public typealias Item = SnapshotBox
    public func poll() -> SnapshotBox? {
        let p: PaymentSnapshot? = poll()
        return p.map(SnapshotBox.init)
    }
    public func pollNext() -> (item: SnapshotBox?, finished: Bool) { pollNextBox() }
}
extension AllPaymentsMailbox: PollableSource {}
