/// One grpc-gateway binding: an HTTP verb and path template that run a gRPC method.
public struct RESTBinding: Sendable {
    /// Where the request's fields come from besides the path (grpc-gateway's `body` rule).
    public enum Body: Sendable {
        /// No body: the fields not bound by the path come from the query string.
        case none
        /// `body: "*"`: the whole request message is the JSON body (the query is not read).
        case all
    }

    /// The gRPC method path ("/routerrpc.Router/TrackPaymentV2").
    public let method: String
    public let verb: String
    public let template: PathTemplate
    public let body: Body

    public init(method: String, verb: String, path: String, body: Body) {
        self.method = method; self.verb = verb; self.template = PathTemplate(path); self.body = body
    }
}
