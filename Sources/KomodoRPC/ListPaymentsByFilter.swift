import JSON

extension KDFLightning {
    static let statusNames = KDFPaymentRecord.Status.allCases.map(\.jsonName)

    static func parseFilter(_ v: JSONValue) throws(SerdeError) -> KDFPaymentFilter {
        var f = KDFPaymentFilter()
        var r = try ParamsReader(v, structName: "PaymentsFilter")
        r.field("payment_type") { v throws(SerdeError) in f.paymentType = try parsePaymentType(v) }
        r.field("description") { v throws(SerdeError) in f.description = try ParamsReader.string(v) }
        r.field("status") { v throws(SerdeError) in
            let s = try ParamsReader.string(v)
            guard let status = KDFPaymentRecord.Status(jsonName: s) else {
                throw SerdeError(SerdeMessage.unknownVariant(s, expected: statusNames))
            }
            f.status = status
        }
        r.field("from_amount_msat") { v throws(SerdeError) in f.fromAmountMsat = try ParamsReader.u64(v) }
        r.field("to_amount_msat") { v throws(SerdeError) in f.toAmountMsat = try ParamsReader.u64(v) }
        r.field("from_fee_paid_msat") { v throws(SerdeError) in f.fromFeePaidMsat = try ParamsReader.u64(v) }
        r.field("to_fee_paid_msat") { v throws(SerdeError) in f.toFeePaidMsat = try ParamsReader.u64(v) }
        r.field("from_timestamp") { v throws(SerdeError) in f.fromTimestamp = try ParamsReader.u64(v) }
        r.field("to_timestamp") { v throws(SerdeError) in f.toTimestamp = try ParamsReader.u64(v) }
        try r.decodeAll()
        return f
    }

    /// KDF's `PaymentTypeForRPC`, internally tagged on `type`.
    static func parsePaymentType(_ v: JSONValue) throws(SerdeError) -> KDFPaymentFilter.PaymentType {
        guard case .object = v else { throw SerdeError(SerdeMessage.invalidType(v, expected: "internally tagged enum PaymentTypeForRPC")) }
        guard let tag = v["type"] else { throw SerdeError(SerdeMessage.missingField("type")) }
        let type = try ParamsReader.string(tag)
        switch type {
        case "Inbound Payment": return .inbound
        case "Outbound Payment":
            var destination = ""
            var r = try ParamsReader(v, structName: "PaymentTypeForRPC")
            r.field("destination", required: true) { v throws(SerdeError) in destination = try publicKey(v) }
            try r.decodeAll()
            return .outbound(destination: destination)
        default:
            throw SerdeError(SerdeMessage.unknownVariant(type, expected: ["Outbound Payment", "Inbound Payment"]))
        }
    }

    /// KDF's `PagingOptionsEnum<H256Json>`, externally tagged.
    static func parsePaging(_ v: JSONValue) throws(SerdeError) -> KDFPagingOptions {
        let variants = ["FromId", "PageNumber"]
        switch v {
        case .string(let s):
            if variants.contains(s) { throw SerdeError("invalid type: unit variant, expected newtype variant") }
            throw SerdeError(SerdeMessage.unknownVariant(s, expected: variants))
        case .object(let members):
            guard members.count == 1, let m = members.first else {
                throw SerdeError(members.isEmpty ? "invalid value: map, expected map with a single key"
                                                 : "invalid value: map, expected map with a single key")
            }
            switch m.key {
            case "PageNumber":
                let n = try ParamsReader.usize(m.value)
                if n == 0 { throw SerdeError("invalid value: integer `0`, expected a nonzero usize") }
                return .pageNumber(n)
            case "FromId":
                return .fromID(try ParamsReader.hash(m.value))
            default:
                throw SerdeError(SerdeMessage.unknownVariant(m.key, expected: variants))
            }
        default:
            throw SerdeError(SerdeMessage.invalidType(v, expected: "enum PagingOptionsEnum"))
        }
    }

    /// `list_payments_by_filter`: a page, newest `last_updated` first; total and total_pages
    /// count the rows matching the filter.
    func listPaymentsByFilter(_ params: JSONValue) throws(MMRPCError) -> JSONValue {
        var coin = ""
        var filter = KDFPaymentFilter()
        var limit = 10
        var paging = KDFPagingOptions.pageNumber(1)
        try parse { () throws(SerdeError) in
            var r = try ParamsReader(params, structName: "ListPaymentsReq")
            r.field("coin", required: true) { v throws(SerdeError) in coin = try ParamsReader.string(v) }
            r.field("filter") { v throws(SerdeError) in filter = try Self.parseFilter(v) }
            r.field("limit") { v throws(SerdeError) in limit = try ParamsReader.usize(v) }
            r.field("paging_options") { v throws(SerdeError) in paging = try Self.parsePaging(v) }
            try r.decodeAll()
        }
        try findCoin(coin, method: "list_payments_by_filter", line: 80)
        // Pages beyond this many rows are never useful and keep one reply bounded.
        let boundedLimit = min(limit, 100_000)
        let page: KDFPaymentPage
        do { page = try store.page(filter: filter, paging: paging, limit: boundedLimit) } catch {
            throw .dbError("\(error)", method: "list_payments_by_filter", line: 88)
        }
        let totalPages = limit == 0 ? 0 : (page.total + limit - 1) / limit
        let pagingJSON: JSONValue
        switch paging {
        case .pageNumber(let n): pagingJSON = .object([JSONMember("PageNumber", .integer(n))])
        case .fromID(let h): pagingJSON = .object([JSONMember("FromId", .string(Hex.encode(h)))])
        }
        return .object([JSONMember("payments", .array(page.records.map(Self.json))), JSONMember("limit", .integer(limit)),
                        JSONMember("skipped", .integer(page.skipped)), JSONMember("total", .integer(page.total)),
                        JSONMember("total_pages", .integer(totalPages)), JSONMember("paging_options", pagingJSON)])
    }
}

import LightningPrimitives
