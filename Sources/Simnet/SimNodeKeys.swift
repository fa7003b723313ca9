import Crypto
import Routing

/// A simulated node's secp256k1 identity, derived deterministically so that restarting the
/// daemon with the same seed gives the same network: `k = SHA256("paytrack-simnet" || 0x00 ||
/// seed || 0x00 || alias || counter)`, bumping `counter` in the (negligible) case k ≥ n or k = 0.
public enum SimNodeKeys {
    public static func derivePrivateKey(seed: String, alias: String) -> PrivateKey {
        var counter: UInt8 = 0
        while true {
            let material = Array("paytrack-simnet".utf8) + [0] + Array(seed.utf8) + [0] + Array(alias.utf8) + [counter]
            if let key = try? PrivateKey(rawRepresentation: SHA256.hash(material)) { return key }
            counter &+= 1
        }
    }

    /// The node id (33-byte compressed public key) of a private key.
    public static func nodeID(of key: PrivateKey) -> NodeID {
        NodeID(bytes: key.publicKey.compressed)!
    }
}
