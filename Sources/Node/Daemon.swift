import Foundation

/// The composition root's entry point: builds every component for `config` and serves until a
/// signal asks it to stop. Returns the process exit status.
public enum Daemon {
    public static func run(config: Config) throws -> Int32 {
        let sink = LogSink(levels: config.debugLevel)
        let log = sink.logger("LTND")
        let primary = NodeDirectory(root: config.dataDirectory, network: config.network)
        try primary.create()
        log.info("datadir \(primary.root), network \(config.network)")
        log.error("RPC listeners are not wired into this build yet")
        return 1
    }
}
