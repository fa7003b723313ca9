/// REST bindings of PayTrack's own extension services (Protos/paytrackrpc), kept apart from
/// LND's so `LNDRESTBindings` stays exactly LND's. Paths live under `/v1/paytrack/`, a prefix
/// LND does not use.
public enum PayTrackRESTBindings {
    public static let all: [RESTBinding] = [
        RESTBinding(method: "/paytrackrpc.Simnet/DescribeNetwork", verb: "GET", path: "/v1/paytrack/network", body: .none),
    ]
}
