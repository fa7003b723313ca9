import LightningRPC

/// Payment history commands: listpayments and deletepayments.
enum PaymentListCommands {
    static let listPayments = Command(
        "listpayments", summary: "List all outgoing payments.",
        details: "Payments are returned oldest first after index_offset, or newest first before it with --reversed.",
        flags: [
            Flag("include_incomplete", help: "if set to true, payments still in flight (or failed) will be returned as well"),
            Flag("index_offset", value: "N", help: "the index of a payment that will be used as either the start (or end with --reversed) of a query"),
            Flag("max_payments", value: "N", help: "the max number of payments to return", default: "100"),
            Flag("reversed", help: "page backwards from index_offset (newest first)"),
            Flag("count_total_payments", help: "also return the total number of payments in the database (slower)"),
            Flag("creation_date_start", value: "UNIX", help: "timestamp in seconds; only payments created at or after it"),
            Flag("creation_date_end", value: "UNIX", help: "timestamp in seconds; only payments created at or before it"),
            Flag("omit_hops", help: "leave the hops out of each HTLC's route"),
        ]) { inv in
        try inv.expectAtMost(0)
        let f = inv.flags
        var req = Lnrpc.ListPaymentsRequest()
        req.includeIncomplete = f.bool("include_incomplete")
        req.indexOffset = try f.uint64("index_offset") ?? 0
        req.maxPayments = try f.uint64("max_payments") ?? 100
        req.reversed = f.bool("reversed")
        req.countTotalPayments = f.bool("count_total_payments")
        req.creationDateStart = try f.uint64("creation_date_start") ?? 0
        req.creationDateEnd = try f.uint64("creation_date_end") ?? 0
        req.omitHops = f.bool("omit_hops")
        Output.printMessage(try inv.connection().unary(RPCPath.listPayments, req, as: Lnrpc.ListPaymentsResponse.self))
    }

    static let deletePayments = Command(
        "deletepayments", arguments: "payment_hash | --all",
        summary: "Delete a single or multiple payments from the database.",
        details: "With a payment hash: deletes that payment (or only its failed HTLCs with --failed_htlcs_only).\nWith --all: deletes all failed payments, or every completed payment with --include_non_failed.",
        flags: [
            Flag("all", help: "delete all failed payments (or, with --include_non_failed, all completed payments)"),
            Flag("payment_hash", value: "HEX", help: "the hash of the payment to delete"),
            Flag("failed_htlcs_only", help: "only delete failed HTLC attempts, keep the payment"),
            Flag("include_non_failed", help: "with --all: also delete succeeded payments"),
        ]) { inv in
        try inv.expectAtMost(1)
        let f = inv.flags
        let hashText = f.string("payment_hash") ?? inv.positionals.first
        if f.bool("all") {
            if hashText != nil { throw CLIError.usage("cannot use --all and a payment hash together") }
            var req = Lnrpc.DeleteAllPaymentsRequest()
            req.failedHtlcsOnly = f.bool("failed_htlcs_only")
            req.allPayments = f.bool("include_non_failed")
            req.failedPaymentsOnly = !req.allPayments
            Output.printMessage(try inv.connection().unary(RPCPath.deleteAllPayments, req, as: Lnrpc.DeleteAllPaymentsResponse.self))
            return
        }
        guard let hashText else { throw CLIError.usage("either a payment hash or --all must be given") }
        if f.bool("include_non_failed") { throw CLIError.usage("--include_non_failed only applies with --all") }
        var req = Lnrpc.DeletePaymentRequest()
        req.paymentHash = try Parse.paymentHash(hashText)
        req.failedHtlcsOnly = f.bool("failed_htlcs_only")
        Output.printMessage(try inv.connection().unary(RPCPath.deletePayment, req, as: Lnrpc.DeletePaymentResponse.self))
    }
}
