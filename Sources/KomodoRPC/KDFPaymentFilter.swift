/// KDF's `PaymentsFilter` (list_payments_by_filter `filter`): every key optional, combined with AND;
/// ranges inclusive; a range on a NULL column excludes the row (SQL comparison with NULL).
public struct KDFPaymentFilter: Equatable, Sendable {
    public enum PaymentType: Equatable, Sendable {
        case inbound
        case outbound(destination: String)
    }

    public var paymentType: PaymentType?
    /// Substring of the description (ASCII case-insensitive), matched literally.
    public var description: String?
    public var status: KDFPaymentRecord.Status?
    public var fromAmountMsat: UInt64?
    public var toAmountMsat: UInt64?
    public var fromFeePaidMsat: UInt64?
    public var toFeePaidMsat: UInt64?
    /// On `created_at`, unix seconds.
    public var fromTimestamp: UInt64?
    public var toTimestamp: UInt64?

    public init() {}
}

/// KDF's `PagingOptionsEnum`: `{"PageNumber": n}` (n ≥ 1) or `{"FromId": "<hash>"}`.
public enum KDFPagingOptions: Equatable, Sendable {
    case pageNumber(Int)
    case fromID([UInt8])
}

/// One page of records and the counts list_payments_by_filter reports.
public struct KDFPaymentPage: Equatable, Sendable {
    public var records: [KDFPaymentRecord]
    public var skipped: Int
    /// Rows that match the filter (KDF's code counts every row: docs/API.md).
    public var total: Int
}
