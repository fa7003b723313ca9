import LightningRPC

/// Payment-tracking commands: trackpayment (TrackPaymentV2) and trackpayments (TrackPayments).
/// Both print one JSON object per update as it arrives.
enum TrackCommands {
    /// Request metadata asking TrackPayments to replay updates newer than this time (ns since
    /// the Unix epoch) before going live (PayTrack extension).
    static let replaySinceKey = "paytrack-replay-since"

    static let trackPayment = Command(
        "trackpayment", arguments: "hash",
        summary: "Track progress of an existing payment.",
        details: "Prints the payment's current state, then every update until it completes.",
        flags: [
            Flag("no_inflight_updates", help: "only print the final state (and the initial one if already final)"),
            Flag("json", help: "accepted for lncli compatibility; output is always JSON"),
        ]) { inv in
        try inv.expectAtMost(1)
        var req = Routerrpc.TrackPaymentRequest()
        req.paymentHash = try Parse.paymentHash(try inv.argument(0, "hash"))
        req.noInflightUpdates = inv.flags.bool("no_inflight_updates")
        _ = try PaymentStream.follow(inv.connection(), path: RPCPath.trackPaymentV2, request: req, printEach: true, maxUpdates: nil)
    }

    static let trackPayments = Command(
        "trackpayments", summary: "Track updates of all payments.",
        details: "Prints every update of every payment (one JSON object each) until interrupted,\n--count updates were printed, or the global --timeout passes.",
        flags: [
            Flag("no_inflight_updates", help: "only print final states"),
            Flag("replay-since", aliases: ["replay_since"], value: "NS", help: "first replay updates made after this time (nanoseconds since the Unix epoch), then follow live (metadata paytrack-replay-since)"),
            Flag("count", value: "N", help: "exit after printing N updates"),
        ]) { inv in
        try inv.expectAtMost(0)
        var req = Routerrpc.TrackPaymentsRequest()
        req.noInflightUpdates = inv.flags.bool("no_inflight_updates")
        let connection = try inv.connection()
        if let since = inv.flags.string("replay-since") {
            guard UInt64(since) != nil else { throw CLIError.usage("invalid value \"\(since)\" for flag --replay-since: want nanoseconds since the epoch") }
            connection.metadata.add(replaySinceKey, since)
        }
        var count: Int?
        if let c = try inv.flags.uint32("count") {
            guard c > 0 else { throw CLIError.usage("--count must be at least 1") }
            count = Int(c)
        }
        _ = try PaymentStream.follow(connection, path: RPCPath.trackPayments, request: req, printEach: true, maxUpdates: count)
    }
}
