import Foundation
import JSON
import LightningRPC

/// Route and mission-control commands: queryroutes, estimateroutefee, buildroute, sendtoroute,
/// querymc, resetmc, queryprob (querymcprobability).
enum RouteCommands {
    static let queryRoutes = Command(
        "queryroutes", arguments: "dest amt",
        summary: "Query a route to a destination.",
        details: "Queries the channel router for a potential path to the destination that has sufficient flow for the amount including fees",
        flags: [
            Flag("dest", value: "HEX", help: "the 33-byte hex-encoded public key for the payment destination"),
            Flag("amt", value: "SAT", help: "the amount to send expressed in satoshis"),
            Flag("fee_limit", value: "SAT", help: "maximum fee allowed in satoshis when sending the payment"),
            Flag("fee_limit_percent", value: "PERCENT", help: "percentage of the payment's amount used as the maximum fee allowed when sending the payment"),
            Flag("final_cltv_delta", value: "BLOCKS", help: "(optional) number of blocks the last hop has to reveal the preimage"),
            Flag("use_mc", help: "use mission control probabilities"),
            Flag("outgoing_chan_id", value: "ID", help: "(optional) the channel id of the channel that must be taken to the first hop", repeatable: true),
            Flag("last_hop", value: "HEX", help: "pubkey of the last hop (penultimate node in the path) to route through"),
            Flag("cltv_limit", value: "BLOCKS", help: "the maximum time lock that may be used for this payment"),
            Flag("ignore_pair", value: "FROM:TO", help: "ignore directional node pair <node1>:<node2>. This flag can be specified multiple times if multiple node pairs are to be ignored", repeatable: true),
            Flag("time_pref", value: "PREF", help: "(optional) expresses time preference (range -1 to 1)"),
        ]) { inv in
        try inv.expectAtMost(2)
        let f = inv.flags
        var req = Lnrpc.QueryRoutesRequest()
        req.pubKey = try inv.argument(0, orFlag: "dest", "dest")
        let amtText = try inv.argument(1, orFlag: "amt", "amt")
        guard let amt = Int64(amtText) else { throw CLIError.usage("unable to decode amt argument: \"\(amtText)\"") }
        req.amt = amt
        if let fee = try f.int64("fee_limit") {
            var l = Lnrpc.FeeLimit()
            l.fixed = fee
            req.feeLimit = l
        } else if let pct = try f.int64("fee_limit_percent") {
            var l = Lnrpc.FeeLimit()
            l.percent = pct
            req.feeLimit = l
        }
        if let d = try f.int32("final_cltv_delta") { req.finalCltvDelta = d }
        req.useMissionControl = f.bool("use_mc")
        for id in f.strings("outgoing_chan_id") {
            guard let v = UInt64(id) else { throw CLIError.usage("unable to parse outgoing_chan_id: \"\(id)\"") }
            req.outgoingChanIds.append(v)
        }
        if let l = f.string("last_hop") { req.lastHopPubkey = try Parse.hex(l, what: "last hop", length: 33) }
        if let c = try f.uint32("cltv_limit") { req.cltvLimit = c }
        for pair in f.strings("ignore_pair") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2 else { throw CLIError.usage("invalid ignore_pair \"\(pair)\": want <node1>:<node2>") }
            var p = Lnrpc.NodePair()
            p.from = try Parse.hex(String(parts[0]), what: "ignore_pair", length: 33)
            p.to = try Parse.hex(String(parts[1]), what: "ignore_pair", length: 33)
            req.ignoredPairs.append(p)
        }
        if let t = f.string("time_pref") {
            guard let v = Double(t) else { throw CLIError.usage("unable to parse time_pref: \"\(t)\"") }
            req.timePref = v
        }
        Output.printMessage(try inv.connection().unary(MoreRPCPath.queryRoutes, req, as: Lnrpc.QueryRoutesResponse.self))
    }

    static let estimateRouteFee = Command(
        "estimateroutefee", summary: "Estimate routing fees based on a destination or an invoice.",
        details: "Estimates the routing fees and time lock required to pay to a destination or an invoice: from the graph\n(--dest and --amt), or by sending a probe payment to the invoice's destination (--pay_req).",
        flags: [
            Flag("dest", value: "HEX", help: "the 33-byte hex-encoded public key for the payment destination; if set, --amt must be set too"),
            Flag("amt", value: "SAT", help: "the payment amount expressed in satoshis that should be probed for; only used with --dest"),
            Flag("pay_req", value: "PAYREQ", help: "a zpay32 encoded payment request; if set, the fee is estimated with a probe payment"),
            Flag("timeout", value: "SECONDS", help: "a deadline for the probe attempt; only applies with --pay_req", default: "60 (server)"),
        ]) { inv in
        try inv.expectAtMost(0)
        let f = inv.flags
        var req = Routerrpc.RouteFeeRequest()
        if let d = f.string("dest") { req.dest = try Parse.hex(d, what: "dest") }
        if let a = try f.int64("amt") { req.amtSat = a }
        if let p = f.string("pay_req") { req.paymentRequest = PayCommands.stripPrefix(p) }
        if let t = try f.uint32("timeout") { req.timeout = t }
        Output.printMessage(try inv.connection().unary(MoreRPCPath.estimateRouteFee, req, as: Routerrpc.RouteFeeResponse.self))
    }

    static let buildRoute = Command(
        "buildroute", summary: "Build a route from a list of hop pubkeys.",
        flags: [
            Flag("amt", value: "SAT", help: "the amount to send expressed in satoshis. If not set, the minimum routable amount is used"),
            Flag("final_cltv_delta", value: "BLOCKS", help: "number of blocks the last hop has to reveal the preimage", default: "80 (server)"),
            Flag("hops", value: "PUBKEYS", help: "comma separated hex pubkeys"),
            Flag("outgoing_chan_id", value: "ID", help: "short channel id of the outgoing channel to use for the first hop of the payment"),
            Flag("payment_addr", value: "HEX", help: "hex encoded payment address to set in the last hop's mpp record"),
        ]) { inv in
        try inv.expectAtMost(0)
        let f = inv.flags
        guard let hops = f.string("hops") else { throw CLIError.usage("hops must be specified") }
        var req = Routerrpc.BuildRouteRequest()
        req.hopPubkeys = try hops.split(separator: ",").map { (h: Substring) throws(CLIError) -> [UInt8] in
            try Parse.hex(String(h), what: "hop pubkey")
        }
        if let a = try f.int64("amt") { req.amtMsat = a * 1000 }
        if let d = try f.int32("final_cltv_delta") { req.finalCltvDelta = d }
        if let o = try f.uint64("outgoing_chan_id") { req.outgoingChanId = o }
        if let a = f.string("payment_addr") { req.paymentAddr = try Parse.hex(a, what: "payment addr", length: 32) }
        Output.printMessage(try inv.connection().unary(MoreRPCPath.buildRoute, req, as: Routerrpc.BuildRouteResponse.self))
    }

    static let sendToRoute = Command(
        "sendtoroute", arguments: "routes",
        summary: "Send a payment over a predefined route.",
        details: "Send a payment over a route: the JSON output of queryroutes (its first route) or buildroute,\nas the argument, or - to read it from stdin (e.g. `paytrack buildroute ... | paytrack sendtoroute --payment_hash H -`).",
        flags: [
            Flag("payment_hash", aliases: ["pay_hash"], value: "HEX", help: "the hash to use within the payment's HTLC"),
            Flag("routes", aliases: ["r"], value: "JSON", help: "a json array string in the format of the response of queryroutes that denotes which routes to use"),
            Flag("skip_temp_err", help: "Whether the payment should be marked as failed when a temporary error occurred. Set it to true so the payment won't be failed unless a terminal error has occurred."),
        ]) { inv in
        try inv.expectAtMost(1)
        let f = inv.flags
        guard let hash = f.string("payment_hash") else { throw CLIError.usage("payment hash argument missing") }
        var req = Routerrpc.SendToRouteRequest()
        req.paymentHash = try Parse.paymentHash(hash)
        let text = try CallCommand.requestText(try inv.argument(0, orFlag: "routes", "routes"))
        req.route = try route(fromJSON: text)
        req.skipTempErr = f.bool("skip_temp_err")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.sendToRouteV2, req, as: Lnrpc.HTLCAttempt.self))
    }

    /// lncli's reading of sendtoroute input: a QueryRoutesResponse (`routes`, the first one is
    /// used) or a BuildRouteResponse (`route`).
    static func route(fromJSON text: String) throws(CLIError) -> Lnrpc.Route {
        let value: JSONValue
        do { value = try JSONParser().parse(Array(text.utf8)) } catch { throw .usage("unable to parse routes JSON: \(error)") }
        var json: JSONValue?
        if case .array(let routes)? = value["routes"] { json = routes.first }
        if json == nil, let r = value["route"], r != .null { json = r }
        guard let json else { throw .usage("no routes provided") }
        do { return try Lnrpc.Route(gatewayJSON: json) } catch { throw .usage("unable to decode route: \(MethodTable.describe(error))") }
    }

    static let queryMC = Command("querymc", summary: "Query the internal mission control state.") { inv in
        try inv.expectAtMost(0)
        Output.printMessage(try inv.connection().unary(MoreRPCPath.queryMissionControl, Routerrpc.QueryMissionControlRequest(),
                                                       as: Routerrpc.QueryMissionControlResponse.self))
    }

    static let resetMC = Command("resetmc", summary: "Reset internal mission control state.") { inv in
        try inv.expectAtMost(0)
        Output.printMessage(try inv.connection().unary(MoreRPCPath.resetMissionControl, Routerrpc.ResetMissionControlRequest(),
                                                       as: Routerrpc.ResetMissionControlResponse.self))
    }

    static func queryProbability(named name: String) -> Command {
        Command(name, arguments: "from-node to-node amt", summary: "Estimate a success probability.") { inv in
            try inv.expectAtMost(3)
            guard inv.positionals.count == 3 else { throw CLIError.usage("from-node, to-node and amt arguments required") }
            var req = Routerrpc.QueryProbabilityRequest()
            req.fromNode = try Parse.hex(inv.positionals[0], what: "from node key", length: 33)
            req.toNode = try Parse.hex(inv.positionals[1], what: "to node key", length: 33)
            guard let amt = Int64(inv.positionals[2]) else { throw CLIError.usage("unable to decode amt argument: \"\(inv.positionals[2])\"") }
            req.amtMsat = amt * 1000
            Output.printMessage(try inv.connection().unary(MoreRPCPath.queryProbability, req, as: Routerrpc.QueryProbabilityResponse.self))
        }
    }
    /// lncli's name.
    static let queryProb = queryProbability(named: "queryprob")
    static let queryMCProbability = queryProbability(named: "querymcprobability")
}
