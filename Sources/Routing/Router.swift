import Locks
import Foundation

/// The routing service (LND `ChannelRouter`'s routing half, LDK `DefaultRouter`): owns the
/// graph view and mission control, finds routes, and learns from HTLC outcomes.
/// Thread-safe: searches run on a snapshot of the graph taken under a lock.
public final class Router: @unchecked Sendable {
    public let missionControl: MissionControl
    public let config: PathfindingConfig
    private let lock = Lock()
    private var _graph: ChannelGraph

    public init(graph: ChannelGraph, missionControl: MissionControl = MissionControl(),
                config: PathfindingConfig = PathfindingConfig()) {
        _graph = graph
        self.missionControl = missionControl
        self.config = config
    }

    /// A snapshot of the current graph.
    public var graph: ChannelGraph {
        lock.lock(); defer { lock.unlock() }
        return _graph
    }

    /// Mutates the graph (gossip, a new topology export).
    public func updateGraph(_ body: (inout ChannelGraph) -> Void) {
        lock.lock(); defer { lock.unlock() }
        body(&_graph)
    }

    /// Finds the cheapest route for `request` given what mission control knows.
    /// `inFlightMsat` is liquidity already committed per channel by other shards of the payment.
    public func findRoute(_ request: RouteRequest,
                          inFlightMsat: [ShortChannelID: UInt64] = [:]) throws(NoRouteReason) -> SourceRoute {
        let g = graph
        return try PathFinder.findRoute(in: g, request: request, missionControl: missionControl.snapshot(),
                                        inFlightMsat: inFlightMsat, config: config)
    }

    /// Records a settled route.
    public func reportSuccess(route: SourceRoute) {
        missionControl.reportSuccess(route: route)
    }

    /// Records a failed HTLC: mission control learns from it and a carried `channel_update`
    /// (BOLT 4 UPDATE codes) is applied to the graph, as LND's `applyChannelUpdate` does.
    @discardableResult
    public func reportFailure(route: SourceRoute, failure: HTLCFailure) -> FailureOutcome {
        if let update = failure.message.channelUpdate {
            updateGraph { $0.apply(update) }
        }
        return missionControl.reportFailure(route: route, failure: failure)
    }
}
