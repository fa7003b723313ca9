import RPCCore
import Macaroons
import Metrics

extension MacaroonError: GRPCStatusConvertible {
    public var grpcStatus: GRPCStatus { GRPCStatus(GRPCStatus.Code(rawValue: grpcStatusCode) ?? .unknown, message) }
}

/// Checks the `macaroon` metadata of every call against the method's required permissions, with
/// LND's order and error texts (all code UNKNOWN). Verified macaroons are cached per connection
/// (`MacaroonVerificationCache` in the connection's storage slot, bound to the peer's IP), so a
/// repeated macaroon costs one comparison and one clock read; `time-before` still expires it.
/// With `refusals`, each refused call counts once in the series of its ``MacaroonRefusalReason``
/// (label `reason`), whatever face it arrived on.
public struct MacaroonInterceptor: ServerInterceptor {
    let checker: MacaroonChecker
    let refusals: MetricFamily<Counter>?

    public init(checker: MacaroonChecker, refusals: MetricFamily<Counter>? = nil) {
        self.checker = checker
        self.refusals = refusals
    }

    public func intercept(_ context: ServerCallContext) -> GRPCStatus? {
        guard checker.isEnabled else { return nil }
        let cache: MacaroonVerificationCache
        if let c = context.connectionStorage as? MacaroonVerificationCache {
            cache = c
        } else {
            cache = MacaroonVerificationCache(peerIP: Self.ip(of: context.peerAddress))
            context.connectionStorage = cache
        }
        do {
            // The cache is bound to the connection's peer IP, which the checker then uses.
            let path = context.path
            try context.metadata.withStringValues("macaroon") { (n, first) throws(MacaroonError) in
                try checker.checkRequest(macaroonCount: n, macaroon: first, fullMethod: path, cache: cache)
            }
            return nil
        } catch {
            refusals?.series(MacaroonRefusalReason(error).rawValue).increment()
            return error.grpcStatus
        }
    }

    /// The IP part of "ip:port" or "[ipv6]:port".
    static func ip(of address: String) -> String? {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        guard let colon = address.lastIndex(of: ":") else { return address.isEmpty ? nil : address }
        return String(address[..<colon])
    }
}
