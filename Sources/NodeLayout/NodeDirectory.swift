import Foundation

/// Where one served node keeps its files, in LND's layout:
///
///     ROOT/tls.cert, ROOT/tls.key
///     ROOT/data/chain/bitcoin/<network>/{admin,readonly,invoice,router}.macaroon, macaroons root keys
///     ROOT/data/graph/<network>/{payments,invoices}.sqlite, ROOT/node.key
///
/// The primary node's ROOT is the datadir itself; a node added with `--serve NAME=...` lives in
/// `DATADIR/nodes/NAME/`.
public struct NodeDirectory: Sendable, Equatable {
    public let root: String
    public let network: String

    public init(root: String, network: String) {
        self.root = root
        self.network = network
    }

    public var tlsCertPath: String { root + "/tls.cert" }
    public var tlsKeyPath: String { root + "/tls.key" }
    public var chainDirectory: String { root + "/data/chain/bitcoin/" + network }
    public var graphDirectory: String { root + "/data/graph/" + network }
    public func macaroonPath(_ name: String) -> String { chainDirectory + "/\(name).macaroon" }
    public var paymentsDatabasePath: String { graphDirectory + "/payments.sqlite" }
    public var invoicesDatabasePath: String { graphDirectory + "/invoices.sqlite" }
    public var nodeKeyPath: String { root + "/node.key" }

    /// Creates the directories (mode 0700: they hold keys).
    public func create() throws {
        for dir in [root, chainDirectory, graphDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
    }

    /// The directory of the node served by `--serve NAME=...` under `datadir`.
    public static func secondary(name: String, datadir: String, network: String) -> NodeDirectory {
        NodeDirectory(root: datadir + "/nodes/" + name, network: network)
    }
}
