import LightningRPC

/// Channel and graph commands: channelbalance, listchannels, describegraph, getnodeinfo, getchaninfo.
enum ChannelGraphCommands {
    static let channelBalance = Command(
        "channelbalance", summary: "Returns the sum of the total available channel balance across all open channels.") { inv in
        try inv.expectAtMost(0)
        Output.printMessage(try inv.connection().unary(MoreRPCPath.channelBalance, Lnrpc.ChannelBalanceRequest(),
                                                       as: Lnrpc.ChannelBalanceResponse.self))
    }

    static let listChannels = Command(
        "listchannels", summary: "List all open channels.",
        flags: [
            Flag("active_only", help: "only list channels which are currently active"),
            Flag("inactive_only", help: "only list channels which are currently inactive"),
            Flag("public_only", help: "only list channels which are currently public"),
            Flag("private_only", help: "only list channels which are currently private"),
            Flag("peer", value: "HEX", help: "(optional) only display channels with a particular peer, accepts 66-byte, hex-encoded pubkeys"),
            Flag("skip_peer_alias_lookup", help: "skip the peer alias lookup per channel in order to improve performance"),
        ]) { inv in
        try inv.expectAtMost(0)
        let f = inv.flags
        var req = Lnrpc.ListChannelsRequest()
        req.activeOnly = f.bool("active_only")
        req.inactiveOnly = f.bool("inactive_only")
        req.publicOnly = f.bool("public_only")
        req.privateOnly = f.bool("private_only")
        if let p = f.string("peer") { req.peer = try Parse.hex(p, what: "peer", length: 33) }
        req.peerAliasLookup = !f.bool("skip_peer_alias_lookup")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.listChannels, req, as: Lnrpc.ListChannelsResponse.self))
    }

    static let describeGraph = Command(
        "describegraph", summary: "Describe the network graph.",
        details: "Prints a JSON representation of all the nodes and edges of the graph; the output re-imports\nwith `paytrackd --describegraph FILE`.",
        flags: [
            Flag("include_unannounced", help: "If set, unannounced channels will be included in the graph. Unannounced channels are both private channels, and public channels that are not yet announced to the network."),
            Flag("include_auth_proof", help: "If set, will include announcements' signatures into ChannelEdge."),
        ]) { inv in
        try inv.expectAtMost(0)
        var req = Lnrpc.ChannelGraphRequest()
        req.includeUnannounced = inv.flags.bool("include_unannounced")
        req.includeAuthProof = inv.flags.bool("include_auth_proof")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.describeGraph, req, as: Lnrpc.ChannelGraph.self))
    }

    static let getNodeInfo = Command(
        "getnodeinfo", arguments: "pub_key",
        summary: "Get information on a specific node.",
        details: "Prints all available information about the target node.",
        flags: [
            Flag("pub_key", value: "HEX", help: "the 33-byte hex-encoded compressed public of the target node"),
            Flag("include_channels", help: "if true, will return all known channels associated with the node"),
            Flag("include_auth_proof", help: "if true, will return announcements' signatures into ChannelEdge. Depends on include_channels"),
        ]) { inv in
        try inv.expectAtMost(1)
        var req = Lnrpc.NodeInfoRequest()
        req.pubKey = try inv.argument(0, orFlag: "pub_key", "pub_key")
        req.includeChannels = inv.flags.bool("include_channels")
        req.includeAuthProof = inv.flags.bool("include_auth_proof")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.getNodeInfo, req, as: Lnrpc.NodeInfo.self))
    }

    static let getChanInfo = Command(
        "getchaninfo", arguments: "chan_id",
        summary: "Get the state of a channel.",
        details: "Prints out the latest authenticated state for a particular channel.",
        flags: [
            Flag("chan_id", value: "ID", help: "the 8-byte compact channel ID to query for"),
            Flag("chan_point", value: "TXID:INDEX", help: "the channel point of the channel to query for"),
            Flag("include_auth_proof", help: "if true, will include announcements' signatures into ChannelEdge"),
        ]) { inv in
        try inv.expectAtMost(1)
        var req = Lnrpc.ChanInfoRequest()
        if let p = inv.flags.string("chan_point") {
            req.chanPoint = p
        } else {
            let text = try inv.argument(0, orFlag: "chan_id", "chan_id")
            guard let id = UInt64(text) else { throw CLIError.usage("unable to parse chan_id: \"\(text)\"") }
            req.chanId = id
        }
        req.includeAuthProof = inv.flags.bool("include_auth_proof")
        Output.printMessage(try inv.connection().unary(MoreRPCPath.getChanInfo, req, as: Lnrpc.ChannelEdge.self))
    }
}
