import Foundation

/// The defaults a node and its clients agree on without talking: where the primary node listens for
/// gRPC (LND's `127.0.0.1:10009`), where its data directory is, and the networks it can run on.
/// `paytrackd`'s `Config` and the `paytrack` CLI both read them from here, so the CLI needs nothing of
/// the daemon's composition root to find the node it talks to.
public enum NodeDefaults {
    public static let rpcListen = "127.0.0.1:10009"
    public static let networks = ["mainnet", "testnet", "regtest", "simnet", "signet"]
    public static var dataDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.paytrack"
    }
}

/// The version reported by `--version` (daemon and CLI) and GetInfo.
public enum PayTrackVersion {
    public static let string = "0.1.0-paytrack"
}
