import Crypto
import LightningRPC

/// Payment commands over `routerrpc.Router/SendPaymentV2`: payinvoice and sendpayment.
enum PayCommands {
    /// The TLV type of the keysend preimage record (`record.KeySendType`).
    static let keysendRecordType: UInt64 = 5_482_373_484

    /// Flags both payment commands share (lncli's `paymentFlags`).
    static let commonFlags: [Flag] = [
        Flag("fee_limit", value: "SAT", help: "maximum fee allowed in satoshis when sending the payment", default: "the whole amount up to 1000 sat, 5% above"),
        Flag("fee_limit_msat", value: "MSAT", help: "maximum fee allowed in millisatoshis"),
        Flag("timeout", value: "SECONDS", help: "how long to keep trying before failing the payment; seconds or a duration like 1m", default: "60"),
        Flag("max_parts", value: "N", help: "maximum number of partial payments that may be used", default: "16"),
        Flag("max_shard_size_sat", value: "SAT", help: "largest shard size in satoshis; 0 for no limit"),
        Flag("cltv_limit", value: "BLOCKS", help: "maximum time lock that may be used for this payment"),
        Flag("outgoing_chan_id", value: "CHAN_ID", help: "short channel id of an outgoing channel to use for the first hop; repeatable", repeatable: true),
        Flag("last_hop", value: "PUBKEY", help: "pubkey of the last hop (penultimate node) to use"),
        Flag("allow_self_payment", help: "allow sending a circular payment to self"),
        Flag("json", help: "print every payment update as JSON (default: only the final state)"),
        Flag("force", aliases: ["f"], help: "accepted for lncli compatibility; paytrack never asks for confirmation"),
    ]

    static let payInvoice = Command(
        "payinvoice", arguments: "pay_req",
        summary: "Pay an invoice over lightning.",
        details: "Pays a BOLT 11 payment request with SendPaymentV2 and waits for the payment to finish.\nPrints the final payment (or, with --json, every update). Exits 1 if the payment FAILED.",
        flags: [
            Flag("pay_req", value: "PAYREQ", help: "a zpay32 encoded payment request to fulfill"),
            Flag("amt", value: "SAT", help: "number of satoshis to fulfill the invoice (zero-amount invoices only)"),
            Flag("amt_msat", value: "MSAT", help: "number of millisatoshis to fulfill the invoice (zero-amount invoices only)"),
        ] + commonFlags) { inv in
        try inv.expectAtMost(1)
        let payReq = stripPrefix(try inv.argument(0, orFlag: "pay_req", "pay_req"))
        var req = Routerrpc.SendPaymentRequest()
        req.paymentRequest = payReq
        req.amt = try inv.flags.int64("amt") ?? 0
        req.amtMsat = try inv.flags.int64("amt_msat") ?? 0
        // As lncli: decode the invoice first (its amount sets the default fee limit).
        var decodeReq = Lnrpc.PayReqString()
        decodeReq.payReq = payReq
        let decoded = try inv.connection().unary(RPCPath.decodePayReq, decodeReq, as: Lnrpc.PayReq.self)
        let amountMsat = decoded.numMsat != 0 ? decoded.numMsat : (req.amtMsat != 0 ? req.amtMsat : req.amt * 1000)
        try applyCommon(inv.flags, to: &req, amountMsat: amountMsat)
        try send(req, inv: inv)
    }

    static let sendPayment = Command(
        "sendpayment", arguments: "[dest amt [payment_hash final_cltv_delta]] | --pay_req PAYREQ",
        summary: "Send a payment over lightning.",
        details: "Sends a payment to --dest with --payment_hash, or a spontaneous payment with --keysend\n(a random preimage travels in custom record 5482373484; its SHA-256 is the payment hash),\nor pays --pay_req like payinvoice.",
        flags: [
            Flag("dest", aliases: ["d"], value: "PUBKEY", help: "the compressed identity pubkey of the payment recipient, hex"),
            Flag("amt", aliases: ["a"], value: "SAT", help: "number of satoshis to send"),
            Flag("amt_msat", value: "MSAT", help: "number of millisatoshis to send"),
            Flag("payment_hash", aliases: ["r"], value: "HEX", help: "the hash to use within the payment's HTLC"),
            Flag("final_cltv_delta", value: "BLOCKS", help: "the number of blocks the last hop has to reveal the preimage"),
            Flag("pay_req", value: "PAYREQ", help: "a zpay32 encoded payment request to fulfill"),
            Flag("keysend", help: "will generate a pre-image and encode it in the sphinx packet, a dest must be set"),
            Flag("data", value: "TYPE=HEX,...", help: "custom TLV records for the recipient, e.g. 65536=0102"),
        ] + commonFlags) { inv in
        let f = inv.flags
        if let payReq = f.string("pay_req") {
            try inv.expectAtMost(0)
            var req = Routerrpc.SendPaymentRequest()
            req.paymentRequest = stripPrefix(payReq)
            req.amt = try f.int64("amt") ?? 0
            var decodeReq = Lnrpc.PayReqString()
            decodeReq.payReq = req.paymentRequest
            let decoded = try inv.connection().unary(RPCPath.decodePayReq, decodeReq, as: Lnrpc.PayReq.self)
            try applyCommon(f, to: &req, amountMsat: decoded.numMsat != 0 ? decoded.numMsat : req.amt * 1000)
            try send(req, inv: inv)
            return
        }
        // As lncli: each of dest, amt, payment_hash, final_cltv_delta comes from its flag or,
        // when the flag is absent, from the next positional argument, in that order.
        var rest = inv.positionals[...]
        func value(_ flag: String) -> String? { f.string(flag) ?? rest.popFirst() }
        var req = Routerrpc.SendPaymentRequest()
        guard let dest = value("dest") else { throw CLIError.usage("dest argument missing") }
        req.dest = try Parse.hex(dest, what: "dest", length: 33)
        if let msat = try f.int64("amt_msat") { req.amtMsat = msat } else {
            guard let text = value("amt") else { throw CLIError.usage("amount argument missing") }
            guard let amt = Int64(text) else { throw CLIError.usage("unable to decode payment amount: \"\(text)\"") }
            req.amt = amt
        }
        if let data = f.string("data") { req.destCustomRecords = try parseRecords(data) }
        if f.bool("keysend") {
            if f.isSet("payment_hash") { throw CLIError.usage("cannot set payment hash when using keysend") }
            let preimage = SecureRandom.bytes(32)
            req.destCustomRecords[keysendRecordType] = preimage
            req.paymentHash = SHA256.hash(preimage)
        } else {
            guard let hashText = value("payment_hash") else { throw CLIError.usage("payment hash argument missing") }
            req.paymentHash = try Parse.paymentHash(hashText)
        }
        if let text = value("final_cltv_delta") {
            guard let c = Int32(text) else { throw CLIError.usage("unable to decode final_cltv_delta: \"\(text)\"") }
            req.finalCltvDelta = c
        }
        if let extra = rest.first { throw CLIError.usage("unexpected argument \"\(extra)\" (see --help)") }
        try applyCommon(f, to: &req, amountMsat: req.amtMsat != 0 ? req.amtMsat : req.amt * 1000)
        try send(req, inv: inv)
    }

    /// lncli strips a `lightning:` URI prefix from payment requests.
    static func stripPrefix(_ payReq: String) -> String {
        payReq.lowercased().hasPrefix("lightning:") ? String(payReq.dropFirst("lightning:".count)) : payReq
    }

    static func applyCommon(_ f: ParsedFlags, to req: inout Routerrpc.SendPaymentRequest, amountMsat: Int64) throws(CLIError) {
        if let sat = try f.int64("fee_limit") {
            if f.isSet("fee_limit_msat") { throw .usage("fee_limit and fee_limit_msat are mutually exclusive") }
            req.feeLimitSat = sat
        } else if let msat = try f.int64("fee_limit_msat") {
            req.feeLimitMsat = msat
        } else {
            req.feeLimitMsat = Parse.defaultFeeLimitMsat(amountMsat: amountMsat)
        }
        let timeout = try f.string("timeout").map { (t: String) throws(CLIError) in try GlobalOptions.parseDuration(t, flag: "timeout") } ?? .seconds(60)
        let seconds = timeout.components.seconds
        guard seconds > 0, seconds <= Int64(Int32.max) else { throw .usage("--timeout must be at least one second") }
        req.timeoutSeconds = Int32(seconds)
        req.maxParts = try f.uint32("max_parts") ?? 16
        if let s = try f.uint64("max_shard_size_sat") { req.maxShardSizeMsat = s * 1000 }
        if let c = try f.int32("cltv_limit") { req.cltvLimit = c }
        for id in f.strings("outgoing_chan_id") {
            guard let v = UInt64(id) else { throw .usage("invalid outgoing_chan_id \"\(id)\": want a decimal short channel id") }
            req.outgoingChanIds.append(v)
        }
        if let h = f.string("last_hop") { req.lastHopPubkey = try Parse.hex(h, what: "last_hop", length: 33) }
        req.allowSelfPayment = f.bool("allow_self_payment")
    }

    /// `TYPE=HEX,TYPE=HEX` custom records.
    static func parseRecords(_ text: String) throws(CLIError) -> [UInt64: [UInt8]] {
        var out: [UInt64: [UInt8]] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let type = UInt64(kv[0]) else { throw .usage("invalid data format: \"\(part)\", want TYPE=HEX") }
            out[type] = try Parse.hex(String(kv[1]), what: "record \(type)")
        }
        return out
    }

    /// Runs SendPaymentV2 and prints per the `--json` flag; throws when the payment FAILED.
    static func send(_ req: Routerrpc.SendPaymentRequest, inv: Invocation) throws {
        let final = try PaymentStream.follow(inv.connection(), path: RPCPath.sendPaymentV2, request: req,
                                             printEach: inv.flags.bool("json"), maxUpdates: nil)
        guard let final else { throw CLIError.failure("payment stream ended without an update") }
        if !inv.flags.bool("json") { Output.printMessage(final) }
        if final.status == .failed {
            throw CLIError.failure("payment failed: \(final.failureReason.protoName ?? "\(final.failureReason.rawValue)")")
        }
    }
}

/// Follows a `Payment` stream (SendPaymentV2, TrackPaymentV2, TrackPayments).
enum PaymentStream {
    /// Prints each update when `printEach`; stops after `maxUpdates` updates if given. Returns the
    /// last update received.
    static func follow(_ connection: RPCConnection, path: String, request: some LightningRPC.GatewayJSONMessage,
                       printEach: Bool, maxUpdates: Int?) throws -> Lnrpc.Payment? {
        let last = LockedBox<Lnrpc.Payment?>(nil)
        let count = LockedBox(0)
        do {
            try connection.serverStreaming(path, request, as: Lnrpc.Payment.self) { payment in
                last.value = payment
                if printEach { Output.printMessage(payment) }
                count.value += 1
                if let m = maxUpdates, count.value >= m { throw StopStream() }
            }
        } catch is StopStream {
        }
        return last.value
    }

    struct StopStream: Error {}
}
