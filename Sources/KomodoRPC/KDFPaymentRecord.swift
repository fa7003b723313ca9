/// KDF's `PaymentInfo` row (`{ticker}_payments_history`): one Lightning payment as KDF's
/// lightning::payments methods show it.
public struct KDFPaymentRecord: Equatable, Sendable {
    /// KDF `HTLCStatus`; stored capitalized (`Pending`), written lowercase in JSON (`pending`).
    public enum Status: String, CaseIterable, Sendable {
        case pending = "Pending", claimable = "Claimable", succeeded = "Succeeded", failed = "Failed"

        /// The serde name (`#[serde(rename_all = "lowercase")]`).
        public var jsonName: String { rawValue.lowercased() }

        public init?(jsonName: String) {
            guard let s = Status.allCases.first(where: { $0.jsonName == jsonName }) else { return nil }
            self = s
        }
    }

    /// KDF `PaymentType`: `Outbound Payment` carries the destination node id (hex).
    public enum Direction: Equatable, Sendable {
        case outbound(destination: String)
        case inbound
    }

    /// 64 lowercase hex digits.
    public var paymentHash: String
    public var direction: Direction
    /// The invoice `d`, the hex of `h`, "" (outbound keysend) or "keysend" (inbound keysend).
    public var description: String
    public var amountMsat: UInt64?
    public var feePaidMsat: UInt64?
    public var status: Status
    /// Unix seconds.
    public var createdAt: Int64
    public var lastUpdated: Int64

    public init(paymentHash: String, direction: Direction, description: String, amountMsat: UInt64?,
                feePaidMsat: UInt64?, status: Status, createdAt: Int64, lastUpdated: Int64) {
        self.paymentHash = paymentHash
        self.direction = direction
        self.description = description
        self.amountMsat = amountMsat
        self.feePaidMsat = feePaidMsat
        self.status = status
        self.createdAt = createdAt
        self.lastUpdated = lastUpdated
    }
}
