import Payments

// The control tower's mailboxes are the pull sources of the payment streams.
extension PaymentMailbox: PollableSource {}
extension AllPaymentsMailbox: PollableSource {}
