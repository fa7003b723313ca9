import JSON

extension KDFLightning {
    /// `get_payment_details`: `{"payment_details": PaymentInfoForRPC}`, or NoSuchPayment (404).
    func getPaymentDetails(_ params: JSONValue) throws(MMRPCError) -> JSONValue {
        var coin = ""
        var hash: [UInt8] = []
        try parse { () throws(SerdeError) in
            var r = try ParamsReader(params, structName: "GetPaymentDetailsRequest")
            r.field("coin", required: true) { v throws(SerdeError) in coin = try ParamsReader.string(v) }
            r.field("payment_hash", required: true) { v throws(SerdeError) in hash = try ParamsReader.hash(v) }
            try r.decodeAll()
        }
        try findCoin(coin, method: "get_payment_details", line: 70)
        let hex = Hex.encode(hash)
        let record: KDFPaymentRecord?
        do { record = try store.record(hash: hex) } catch {
            throw .dbError("\(error)", method: "get_payment_details", line: 73)
        }
        guard let record else {
            throw MMRPCError(display: "Payment with hash: \(hex) is not found", errorType: "NoSuchPayment",
                             errorData: .string(hex), httpStatus: 404, locations: [("get_payment_details", 75)])
        }
        return .object([JSONMember("payment_details", Self.json(record))])
    }
}

import LightningPrimitives
