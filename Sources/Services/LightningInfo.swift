import BOLT11
import LightningRPC

/// What GetInfo reports about the node behind a listener, read fresh on every call.
public struct NodeInfo: Sendable {
    public var identityPubkey: String
    public var alias: String
    public var color: String
    public var numActiveChannels: UInt32
    public var numInactiveChannels: UInt32
    public var numPeers: UInt32
    public var blockHeight: UInt32
    public var blockHash: String
    public var bestHeaderTimestamp: Int64
    public var network: String
    public var features: FeatureVector

    public init(identityPubkey: String, alias: String, color: String, numActiveChannels: UInt32,
                numInactiveChannels: UInt32, numPeers: UInt32, blockHeight: UInt32, blockHash: String,
                bestHeaderTimestamp: Int64, network: String, features: FeatureVector) {
        self.identityPubkey = identityPubkey
        self.alias = alias
        self.color = color
        self.numActiveChannels = numActiveChannels
        self.numInactiveChannels = numInactiveChannels
        self.numPeers = numPeers
        self.blockHeight = blockHeight
        self.blockHash = blockHash
        self.bestHeaderTimestamp = bestHeaderTimestamp
        self.network = network
        self.features = features
    }
}

/// `lnrpc.Lightning/GetInfo` (spec §2 GetInfoResponse).
struct LightningInfo: Sendable {
    let version: String
    let info: @Sendable () -> NodeInfo

    func getInfo(_ r: Lnrpc.GetInfoRequest) -> Lnrpc.GetInfoResponse {
        let n = info()
        var o = Lnrpc.GetInfoResponse()
        o.version = version
        o.identityPubkey = n.identityPubkey
        o.alias = n.alias
        o.color = n.color
        o.numActiveChannels = n.numActiveChannels
        o.numInactiveChannels = n.numInactiveChannels
        o.numPeers = n.numPeers
        o.blockHeight = n.blockHeight
        o.blockHash = n.blockHash
        o.bestHeaderTimestamp = n.bestHeaderTimestamp
        o.syncedToChain = true
        o.syncedToGraph = true
        o.testnet = n.network == "testnet"
        var chain = Lnrpc.Chain()
        chain.chain = "bitcoin"
        chain.network = n.network
        o.chains = [chain]
        o.uris = []
        o.features = InvoiceMarshaller.features(n.features.lndFeatureMap)
        o.walletSynced = true
        o.graphCacheStatus = .graphCacheStatusLoaded
        return o
    }
}
