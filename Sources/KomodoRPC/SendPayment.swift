import BOLT11
import Crypto
import Foundation
import JSON
import PaymentLifecycle
import Payments
import Routing

extension KDFLightning {
    /// KDF's `LightningPayment`, internally tagged on `type`.
    enum Payment {
        case invoice(Bolt11Invoice, text: String)
        case keysend(destination: String, amountMsat: UInt64, expiry: UInt32)
    }

    /// LDK 0.0.113 `MIN_FINAL_CLTV_EXPIRY` (HTLC_FAIL_BACK_BUFFER 21 + 3).
    static let keysendMinFinalCLTV: UInt32 = 24
    /// LDK's default `max_total_cltv_expiry_delta`.
    static let maxTotalCLTVExpiryDelta: UInt32 = 1008
    /// LDK's default `max_path_count`.
    static let maxPathCount: UInt32 = 10
    /// How long the engine keeps trying (LDK InvoicePayer retries, in time).
    static let paymentTimeoutSeconds: UInt32 = 60

    static func parsePayment(_ v: JSONValue) throws(SerdeError) -> Payment {
        guard case .object = v else { throw SerdeError(SerdeMessage.invalidType(v, expected: "internally tagged enum LightningPayment")) }
        guard let tag = v["type"] else { throw SerdeError(SerdeMessage.missingField("type")) }
        let type = try ParamsReader.string(tag)
        switch type {
        case "invoice":
            var text = ""
            var r = try ParamsReader(v, structName: "LightningPayment")
            r.field("invoice", required: true) { v throws(SerdeError) in text = try ParamsReader.string(v) }
            try r.decodeAll()
            // lightning-invoice's `Invoice::from_str`: parse and semantic checks, its Debug names.
            do { return .invoice(try Bolt11Invoice.decode(text), text: text) } catch { throw SerdeError(error.ldkDescription) }
        case "keysend":
            var destination = "", amount: UInt64 = 0, expiry: UInt32 = 0
            var r = try ParamsReader(v, structName: "LightningPayment")
            r.field("destination", required: true) { v throws(SerdeError) in destination = try publicKey(v) }
            r.field("amount_in_msat", required: true) { v throws(SerdeError) in amount = try ParamsReader.u64(v) }
            r.field("expiry", required: true) { v throws(SerdeError) in expiry = try ParamsReader.u32(v) }
            try r.decodeAll()
            return .keysend(destination: destination, amountMsat: amount, expiry: expiry)
        default:
            throw SerdeError(SerdeMessage.unknownVariant(type, expected: ["invoice", "keysend"]))
        }
    }

    /// `PaymentError`, made in KDF's lightning.rs and converted in send_payment.rs.
    static func paymentError(_ inner: String, keysend: Bool) -> MMRPCError {
        MMRPCError(display: "Payment error: \(inner)", errorType: "PaymentError", errorData: .string(inner), httpStatus: 500,
                   locations: keysend ? [("lightning", 259), ("send_payment", 107)] : [("lightning", 232), ("send_payment", 102)])
    }

    /// LDK's `PaymentError::Routing` Debug text.
    static func routing(_ reason: NoRouteReason) -> String {
        "Routing(LightningError { err: \(SerdeMessage.rustDebugString(reason.ldkMessage)), action: IgnoreError })"
    }

    /// `send_payment`: routes now (LDK's synchronous errors), then hands the payment to the
    /// engine and records it Pending; the result is the payment hash only.
    func sendPayment(_ params: JSONValue) throws(MMRPCError) -> JSONValue {
        var coin = ""
        var payment: Payment?
        try parse { () throws(SerdeError) in
            var r = try ParamsReader(params, structName: "SendPaymentReq")
            r.field("coin", required: true) { v throws(SerdeError) in coin = try ParamsReader.string(v) }
            r.field("payment", required: true) { v throws(SerdeError) in payment = try Self.parsePayment(v) }
            try r.decodeAll()
        }
        try findCoin(coin, method: "send_payment", line: 96)
        let nowNs = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        let intent: PaymentIntent
        let record: KDFPaymentRecord
        let keysend: Bool
        let now = node.now()
        switch payment! {
        case .invoice(let invoice, let text):
            keysend = false
            let prefix = "Error paying invoice: "
            let hash = Hex.encode(invoice.paymentHash)
            do {
                if let old = try store.record(hash: hash), old.status == .succeeded {
                    throw Self.paymentError(prefix + "Invoice with payment hash \(hash) is already paid!", keysend: false)
                }
            } catch let e as MMRPCError { throw e } catch {
                throw Self.paymentError("DB error \(error)", keysend: false)
            }
            // InvoicePayer::pay_invoice's checks, in its order.
            guard let amount = invoice.amountMsat else { throw Self.paymentError(prefix + "Invoice(\"amount missing\")", keysend: false) }
            if let hashValue = PaymentHash(invoice.paymentHash), let live = try? node.control.tower.fetchPayment(hashValue),
               !live.status.isTerminal {
                throw Self.paymentError(prefix + "Invoice(\"payment pending\")", keysend: false)
            }
            if invoice.isExpired(now: UInt64(max(now, 0))) {
                throw Self.paymentError(prefix + "Invoice(\"Invoice expired prior to send\")", keysend: false)
            }
            let mpp = invoice.features.supports(FeatureVector.basicMPPRequired)
            let hints = invoice.routeHints.map { hint in
                hint.map { h in
                    Routing.RouteHintHop(nodeID: NodeID(bytes: h.nodeID.compressed)!, chanID: ShortChannelID(rawValue: h.shortChannelID),
                                    feeBaseMsat: h.feeBaseMsat, feeProportionalMillionths: h.feeProportionalMillionths,
                                    cltvExpiryDelta: h.cltvExpiryDelta)
                }
            }
            let destination = NodeID(bytes: invoice.payee.compressed)!
            intent = PaymentIntent(paymentHash: invoice.paymentHash, destination: destination, amountMsat: amount,
                                   finalCLTVDelta: UInt32(clamping: invoice.minFinalCLTVExpiry),
                                   cltvLimit: Self.maxTotalCLTVExpiryDelta, routeHints: hints, paymentAddr: invoice.paymentSecret,
                                   maxParts: mpp ? Self.maxPathCount : 1, timeoutSeconds: Self.paymentTimeoutSeconds,
                                   paymentRequest: text.lowercased(), creationTimeNs: nowNs)
            let description = invoice.description ?? invoice.descriptionHash.map { Hex.encode($0) } ?? ""
            record = KDFPaymentRecord(paymentHash: hash, direction: .outbound(destination: destination.hex), description: description,
                                      amountMsat: amount, feePaidMsat: nil, status: .pending, createdAt: now, lastUpdated: now)
        case .keysend(let destinationHex, let amount, let expiry):
            keysend = true
            if expiry < Self.keysendMinFinalCLTV {
                throw Self.paymentError("Final cltv expiry delta \(expiry) is below the required minimum of \(Self.keysendMinFinalCLTV)",
                                        keysend: true)
            }
            let preimage = SecureRandom.bytes(32)
            let hash = SHA256.hash(preimage)
            let destination = NodeID(hex: destinationHex)!
            intent = PaymentIntent(paymentHash: hash, destination: destination, amountMsat: amount, finalCLTVDelta: expiry,
                                   cltvLimit: Self.maxTotalCLTVExpiryDelta, destCustomRecords: [SourceRoute.keysendRecordType: preimage],
                                   maxParts: 1, timeoutSeconds: Self.paymentTimeoutSeconds, creationTimeNs: nowNs)
            record = KDFPaymentRecord(paymentHash: Hex.encode(hash), direction: .outbound(destination: destination.hex),
                                      description: "", amountMsat: amount, feePaidMsat: nil, status: .pending,
                                      createdAt: now, lastUpdated: now)
        }
        let prefix = keysend ? "Keysend error: " : "Error paying invoice: "
        if let reason = node.router.preflightRoute(intent) {
            throw Self.paymentError(prefix + Self.routing(reason), keysend: keysend)
        }
        do { _ = try node.router.initiate(intent) } catch {
            switch error {
            case .alreadyExists, .inTransition: throw Self.paymentError(prefix + "Invoice(\"payment pending\")", keysend: keysend)
            case .alreadyPaid, .alreadySucceeded: throw Self.paymentError(prefix + "Sending(DuplicatePayment)", keysend: keysend)
            default:
                throw Self.paymentError(prefix + "Sending(ParameterError(APIMisuseError { err: "
                    + SerdeMessage.rustDebugString("\(error)") + " }))", keysend: keysend)
            }
        }
        // Recorded before the first HTLC leaves, so no outcome can arrive before the row exists.
        do {
            if keysend { try store.insertIfAbsent(record) } else { try store.insertOrReplace(record) }
        } catch {
            node.router.launch(intent)
            throw Self.paymentError("DB error \(error)", keysend: keysend)
        }
        node.router.launch(intent)
        return .object([JSONMember("payment_hash", .string(record.paymentHash))])
    }
}
