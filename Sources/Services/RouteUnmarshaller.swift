import Crypto
import LightningRPC
import Routing
import RPCCore

/// LND's `UnmarshallRoute`/`UnmarshallHop` (routerrpc/router_backend.go): an `lnrpc.Route` from a
/// client becomes a route to send, with LND's checks in LND's order and its texts (plain errors:
/// gRPC UNKNOWN). Only the msat and lock fields are read (`total_amt_msat`, `total_time_lock`,
/// per hop `chan_id`, `amt_to_forward_msat`, `expiry`); the deprecated sat fields are ignored, and
/// each hop's fee is what it receives minus what it forwards. A hop without `pub_key` takes the
/// other end of its channel in the graph. Blinded hops are not supported by the simulation.
struct RouteUnmarshaller {
    let source: NodeID
    let graph: ChannelGraph

    struct Failure: Error, CustomStringConvertible, GRPCStatusConvertible {
        let description: String
        init(_ d: String) { description = d }
        var grpcStatus: GRPCStatus { GRPCStatus(.unknown, description) }
    }

    static let customTypeStart: UInt64 = 65536

    func route(_ r: Lnrpc.Route) throws(Failure) -> Routing.SourceRoute {
        var hops: [RouteHop] = []
        var prev = source
        for (i, h) in r.hops.enumerated() {
            let isFinal = i == r.hops.count - 1
            if h.totalAmtMsat != 0 && !isFinal {
                throw Failure("blinded total amount can only be provided for the final hop")
            }
            let chan = ShortChannelID(rawValue: h.chanId)
            let node: NodeID
            if !h.pubKey.isEmpty {
                guard let n = NodeID(hex: h.pubKey) else { throw Failure("cannot decode pubkey \(h.pubKey)") }
                node = n
            } else {
                guard let edge = graph.channel(chan) else { throw Failure("edge not found") }
                guard let other = edge.peer(of: prev) else { throw Failure("channel edge does not match expected node") }
                node = other
            }
            for key in h.customRecords.keys where key < Self.customTypeStart {
                throw Failure("no custom records with types below \(Self.customTypeStart) allowed")
            }
            var mpp: PaymentData?
            if let m = h.mppRecord {
                if m.paymentAddr.isEmpty && m.totalAmtMsat == 0 { throw Failure("missing total_msat and payment_addr") }
                if m.paymentAddr.isEmpty { throw Failure("missing payment_addr") }
                if m.totalAmtMsat == 0 { throw Failure("missing total_msat") }
                if m.paymentAddr.count != 32 {
                    throw Failure("unable to parse payment_addr: invalid hash length of \(m.paymentAddr.count), want 32")
                }
                mpp = PaymentData(paymentAddr: m.paymentAddr, totalAmountMsat: UInt64(clamping: m.totalAmtMsat))
            }
            if let a = h.ampRecord {
                if a.rootShare.count != 32 { throw Failure("AMP root_share must be 32 bytes") }
                if a.setId.count != 32 { throw Failure("AMP set_id must be 32 bytes") }
            }
            if !h.blindingPoint.isEmpty || !h.encryptedData.isEmpty {
                throw Failure("blinding point: blinded paths are not supported by the simulated network")
            }
            hops.append(RouteHop(pubKey: node, chanID: chan, amtToForwardMsat: UInt64(clamping: h.amtToForwardMsat),
                                 feeMsat: 0, expiry: h.expiry, chanCapacitySat: graph.channel(chan)?.capacitySat ?? 0,
                                 mppRecord: mpp, customRecords: h.customRecords))
            prev = node
        }
        if hops.isEmpty { throw Failure("empty route hops provided") }
        var route = Routing.SourceRoute(source: source, totalTimeLock: r.totalTimeLock,
                                  totalAmountMsat: UInt64(clamping: r.totalAmtMsat), hops: hops)
        for i in route.hops.indices {
            let incoming = route.incomingAmountMsat(ofHop: i)
            route.hops[i].feeMsat = incoming >= route.hops[i].amtToForwardMsat ? incoming - route.hops[i].amtToForwardMsat : 0
        }
        route.hops[route.hops.count - 1].feeMsat = 0
        return route
    }

    /// `first_hop_custom_records` (LND `ValidateCustomRecords` text of the wire package).
    static func validateFirstHopRecords(_ records: [UInt64: [UInt8]]) throws(Failure) {
        for key in records.keys where key < customTypeStart {
            throw Failure("custom records entry with TLV type below min: \(customTypeStart)")
        }
    }
}
