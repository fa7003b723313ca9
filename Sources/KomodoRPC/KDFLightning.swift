import BOLT11
import Crypto
import Foundation
import Invoices
import JSON
import PaymentLifecycle
import Payments
import Routing

/// The Komodo DeFi Framework's `lightning::payments::*` methods over one PayTrack node: its
/// invoice registry (generate_invoice's invoices are the node's invoices), its `ChannelRouter`
/// (send_payment's payments are engine payments) and the KDF records (`KDFPaymentStore`), kept in
/// step with the engine by `KDFRecordKeeper`.
public final class KDFLightning: MMRPCMethods, @unchecked Sendable {
    /// The node the methods act for.
    public struct Node: Sendable {
        /// The ticker this node answers to (`tBTC-lightning`, `BTC-lightning` on mainnet).
        public var coin: String
        public var nodeID: NodeID
        public var invoices: InvoiceRegistry
        public var router: ChannelRouter
        public var control: PaymentControl
        /// generate_invoice's `r` fields: empty when the node has a public channel (LDK 0.0.113).
        public var routeHints: @Sendable () -> [[BOLT11.HopHint]]
        /// Unix seconds.
        public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

        public init(coin: String, nodeID: NodeID, invoices: InvoiceRegistry, router: ChannelRouter, control: PaymentControl,
                    routeHints: @escaping @Sendable () -> [[BOLT11.HopHint]]) {
            self.coin = coin
            self.nodeID = nodeID
            self.invoices = invoices
            self.router = router
            self.control = control
            self.routeHints = routeHints
        }
    }

    public static let generateInvoice = "lightning::payments::generate_invoice"
    public static let sendPayment = "lightning::payments::send_payment"
    public static let getPaymentDetails = "lightning::payments::get_payment_details"
    public static let listPaymentsByFilter = "lightning::payments::list_payments_by_filter"

    public let node: Node
    public let store: any KDFRecordStore

    /// The methods `call` answers (the bounded `method` label of the RPC metrics).
    public var methodNames: [String] { [Self.generateInvoice, Self.sendPayment, Self.getPaymentDetails, Self.listPaymentsByFilter] }

    public init(node: Node, store: any KDFRecordStore) {
        self.node = node
        self.store = store
    }

    /// get_payment_details is one indexed read on the store's own read connection (WAL: never
    /// waits for a writer or for another method's query), so the listener answers it on its loop.
    public func runsInline(method: String) -> Bool {
        method == Self.getPaymentDetails && store.hasReadConnection
    }

    public func call(method: String, params: JSONValue) -> Result<JSONValue, MMRPCError>? {
        let run: (JSONValue) throws(MMRPCError) -> JSONValue
        switch method {
        case Self.generateInvoice: run = generateInvoice
        case Self.sendPayment: run = sendPayment
        case Self.getPaymentDetails: run = getPaymentDetails
        case Self.listPaymentsByFilter: run = listPaymentsByFilter
        default: return nil
        }
        do { return .success(try run(params)) } catch { return .failure(error) }
    }

    /// Parses params with serde's rules: a failure is the dispatcher's params `InvalidRequest`.
    func parse<T>(_ body: () throws(SerdeError) -> T) throws(MMRPCError) -> T {
        do { return try body() } catch { throw .invalidRequest(error.message, params: true) }
    }

    /// `lp_coinfind_or_err`: only this node's ticker exists.
    func findCoin(_ coin: String, method: String, line: Int) throws(MMRPCError) {
        guard coin == node.coin else { throw .noSuchCoin(coin, method: method, line: line) }
    }

    /// KDF's `PaymentInfoForRPC`, keys in KDF's order, NULL columns omitted, no preimage.
    static func json(_ r: KDFPaymentRecord) -> JSONValue {
        var type: [JSONMember]
        switch r.direction {
        case .outbound(let d): type = [JSONMember("type", .string("Outbound Payment")), JSONMember("destination", .string(d))]
        case .inbound: type = [JSONMember("type", .string("Inbound Payment"))]
        }
        var m = [JSONMember("payment_hash", .string(r.paymentHash)), JSONMember("payment_type", .object(type)),
                 JSONMember("description", .string(r.description))]
        if let a = r.amountMsat { m.append(JSONMember("amount_in_msat", .integer(a))) }
        if let f = r.feePaidMsat { m.append(JSONMember("fee_paid_msat", .integer(f))) }
        m += [JSONMember("status", .string(r.status.jsonName)), JSONMember("created_at", .integer(r.createdAt)),
              JSONMember("last_updated", .integer(r.lastUpdated))]
        return .object(m)
    }

    /// A KDF `PublicKeyForRPC` from its hex text, with rust-secp256k1's error text.
    static func publicKey(_ v: JSONValue) throws(SerdeError) -> String {
        let s = try ParamsReader.string(v)
        guard s.utf8.count == 66, let bytes = Hex.decode(s), (try? PublicKey(serialized: bytes)) != nil else {
            throw SerdeError("Could not parse public key from str \(s), err malformed public key")
        }
        return s.lowercased()
    }
}
