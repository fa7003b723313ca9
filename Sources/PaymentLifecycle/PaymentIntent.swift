import Foundation
import Routing

/// Everything needed to (re)drive one outgoing payment: LND's `LightningPayment` after
/// `extractIntentFromSendRequest` validated the request. Persisted while the payment is live so
/// that a restart can resume it.
public struct PaymentIntent: Sendable, Equatable, Codable {
    public var paymentHash: [UInt8]
    public var destination: NodeID
    public var amountMsat: UInt64
    public var finalCLTVDelta: UInt32
    /// Total fee budget across all shards; `UInt64.max` means no limit (LND's "no limit").
    public var feeLimitMsat: UInt64
    /// Largest total time lock; 0 means the configured maximum.
    public var cltvLimit: UInt32
    public var routeHints: [[RouteHintHop]]
    public var outgoingChanIDs: [UInt64]
    public var lastHopPubKey: NodeID?
    /// BOLT 11 `payment_secret`; its presence enables MPP (`payment_data` on the final hop).
    public var paymentAddr: [UInt8]?
    public var destCustomRecords: [UInt64: [UInt8]]
    public var firstHopCustomRecords: [UInt64: [UInt8]]
    public var maxParts: UInt32
    /// 0 means no cap.
    public var maxShardSizeMsat: UInt64
    /// Seconds after creation when no new attempt may start (LND `timeout_seconds`).
    public var timeoutSeconds: UInt32
    /// The BOLT 11 string for `lnrpc.Payment.payment_request` ("" for keysend and dest payments).
    public var paymentRequest: String
    /// Creation time (unix ns); the timeout counts from it, also across a restart.
    public var creationTimeNs: Int64

    public init(paymentHash: [UInt8], destination: NodeID, amountMsat: UInt64, finalCLTVDelta: UInt32 = 18,
                feeLimitMsat: UInt64 = .max, cltvLimit: UInt32 = 0, routeHints: [[RouteHintHop]] = [],
                outgoingChanIDs: [UInt64] = [], lastHopPubKey: NodeID? = nil, paymentAddr: [UInt8]? = nil,
                destCustomRecords: [UInt64: [UInt8]] = [:], firstHopCustomRecords: [UInt64: [UInt8]] = [:],
                maxParts: UInt32 = 16, maxShardSizeMsat: UInt64 = 0, timeoutSeconds: UInt32 = 60,
                paymentRequest: String = "", creationTimeNs: Int64) {
        self.paymentHash = paymentHash
        self.destination = destination
        self.amountMsat = amountMsat
        self.finalCLTVDelta = finalCLTVDelta
        self.feeLimitMsat = feeLimitMsat
        self.cltvLimit = cltvLimit
        self.routeHints = routeHints
        self.outgoingChanIDs = outgoingChanIDs
        self.lastHopPubKey = lastHopPubKey
        self.paymentAddr = paymentAddr
        self.destCustomRecords = destCustomRecords
        self.firstHopCustomRecords = firstHopCustomRecords
        self.maxParts = maxParts
        self.maxShardSizeMsat = maxShardSizeMsat
        self.timeoutSeconds = timeoutSeconds
        self.paymentRequest = paymentRequest
        self.creationTimeNs = creationTimeNs
    }

    /// Unix ns after which no new attempt starts.
    public var deadlineNs: Int64 { creationTimeNs + Int64(timeoutSeconds) * 1_000_000_000 }

    /// The route request for the whole amount from `source` (the session splits it).
    func routeRequest(source: NodeID, currentHeight: UInt32, maxCLTVExpiry: UInt32) -> RouteRequest {
        RouteRequest(source: source, target: destination, amountMsat: amountMsat, finalCLTVDelta: finalCLTVDelta,
                     currentHeight: currentHeight, feeLimitMsat: feeLimitMsat,
                     cltvLimit: cltvLimit == 0 ? maxCLTVExpiry : min(cltvLimit, maxCLTVExpiry),
                     routeHints: routeHints, outgoingChanIDs: Set(outgoingChanIDs.map(ShortChannelID.init(rawValue:))),
                     lastHopPubKey: lastHopPubKey,
                     mppRecord: paymentAddr.map { PaymentData(paymentAddr: $0, totalAmountMsat: amountMsat) },
                     destCustomRecords: destCustomRecords)
    }
}

extension NodeID: Codable {
    public init(from decoder: Decoder) throws {
        let hex = try decoder.singleValueContainer().decode(String.self)
        guard let id = NodeID(hex: hex) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad node id"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

extension ShortChannelID: Codable {
    public init(from decoder: Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(UInt64.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension RouteHintHop: Codable {
    enum CodingKeys: String, CodingKey { case nodeID, chanID, feeBaseMsat, feeProportionalMillionths, cltvExpiryDelta }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nodeID: try c.decode(NodeID.self, forKey: .nodeID), chanID: try c.decode(ShortChannelID.self, forKey: .chanID),
                  feeBaseMsat: try c.decode(UInt32.self, forKey: .feeBaseMsat),
                  feeProportionalMillionths: try c.decode(UInt32.self, forKey: .feeProportionalMillionths),
                  cltvExpiryDelta: try c.decode(UInt16.self, forKey: .cltvExpiryDelta))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(chanID, forKey: .chanID)
        try c.encode(feeBaseMsat, forKey: .feeBaseMsat)
        try c.encode(feeProportionalMillionths, forKey: .feeProportionalMillionths)
        try c.encode(cltvExpiryDelta, forKey: .cltvExpiryDelta)
    }
}
