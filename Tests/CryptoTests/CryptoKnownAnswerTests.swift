import XCTest
@testable import Crypto

/// Known-answer tests for the OpenSSL and libsecp256k1 wrappers.
final class CryptoKnownAnswerTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] { Hex.decode(s)! }

    func testSHA256FIPS180Vectors() {
        XCTAssertEqual(Hex.encode(SHA256.hash([UInt8]())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testHMACSHA256RFC4231() {
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticate(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticate(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 4231 case 6: a key longer than the block size is hashed first.
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticate(key: [UInt8](repeating: 0xaa, count: 131),
                                                          message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        // An empty key is valid HMAC (and must not read a dangling pointer).
        XCTAssertEqual(HMACSHA256.authenticate(key: [], message: []).count, 32)
    }

    func testHexAndConstantTime() {
        XCTAssertEqual(Hex.decode("00ffAb"), [0, 255, 0xab])
        XCTAssertNil(Hex.decode("0"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertTrue(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(ConstantTime.equals([1, 2], [1, 2, 3]))
        XCTAssertTrue(ConstantTime.equals([], []))
    }

    func testSecureRandom() {
        XCTAssertEqual(SecureRandom.bytes(0).count, 0)
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
    }

    func testPublicKeyDerivation() throws {
        let one = try PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [1])
        XCTAssertEqual(Hex.encode(one.publicKey.compressed), "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
        // BOLT 11's example key.
        let spec = try PrivateKey(rawRepresentation: hex("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"))
        XCTAssertEqual(Hex.encode(spec.publicKey.compressed), "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad")
    }

    func testInvalidKeysAreRefused() {
        XCTAssertThrowsError(try PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 32)))
        XCTAssertThrowsError(try PrivateKey(rawRepresentation: hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")))
        XCTAssertThrowsError(try PrivateKey(rawRepresentation: [1]))
        XCTAssertThrowsError(try PublicKey(serialized: [0x02] + [UInt8](repeating: 0, count: 32)))
        XCTAssertThrowsError(try PublicKey(serialized: [0x05] + [UInt8](repeating: 1, count: 32)))
        XCTAssertThrowsError(try PublicKey(serialized: []))
        XCTAssertFalse(PublicKey.isValid(serialized: [0x04] + [UInt8](repeating: 0, count: 64)))
        XCTAssertTrue(PublicKey.isValid(serialized: hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")))
        // Uncompressed G parses and serializes compressed.
        let g = try? PublicKey(serialized: hex("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"))
        XCTAssertEqual(g.map { Hex.encode($0.compressed) }, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    }

    /// RFC 6979 secp256k1 vector: key 1, sha256("Satoshi Nakamoto").
    func testDeterministicSignature() throws {
        let one = try PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [1])
        let hash = SHA256.hash(Array("Satoshi Nakamoto".utf8))
        let sig = try one.sign(hash: hash)
        XCTAssertEqual(Hex.encode(sig), "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
                                       + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")
        XCTAssertTrue(one.publicKey.verify(signature: sig, hash: hash))
        XCTAssertThrowsError(try one.sign(hash: [1, 2, 3]))
    }

    /// BOLT 11's first example: the spec key's recoverable signature over the published hash.
    func testRecoverableSignatureMatchesBOLT11Example() throws {
        let key = try PrivateKey(rawRepresentation: hex("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"))
        let hash = hex("6daf4d488be41ce7cbb487cab1ef2975e5efcea879b20d421f0ef86b07cbb987")
        let (sig, recid) = try key.signRecoverable(hash: hash)
        XCTAssertEqual(Hex.encode(sig), "8d3ce9e28357337f62da0162d9454df827f83cfe499aeb1c1db349d4d81127425e434ca29929406c23bba1ae8ac6ca32880b38d4bf6ff874024cac34ba9625f1")
        XCTAssertEqual(recid, 1)
        XCTAssertEqual(try PublicKey.recover(signature: sig, recoveryID: recid, hash: hash), key.publicKey)
        XCTAssertNotEqual(try PublicKey.recover(signature: sig, recoveryID: 0, hash: hash), key.publicKey)
        XCTAssertThrowsError(try PublicKey.recover(signature: sig, recoveryID: 4, hash: hash)) {
            XCTAssertEqual($0 as? Secp256k1.Error, .invalidRecoveryID)
        }
        XCTAssertThrowsError(try PublicKey.recover(signature: [UInt8](repeating: 0, count: 64), recoveryID: 0, hash: hash))
    }

    func testLowSEnforcement() throws {
        let key = try PrivateKey(rawRepresentation: hex("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"))
        let hash = SHA256.hash(Array("low-s".utf8))
        let low = try key.sign(hash: hash)
        XCTAssertTrue(ECDSASignature.isLowS(low))
        // s' = n - s.
        let n = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        var high = Array(low[0..<32])
        var borrow = 0
        var s = [UInt8](repeating: 0, count: 32)
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(n[i]) - Int(low[32 + i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            s[i] = UInt8(d)
        }
        high += s
        XCTAssertFalse(ECDSASignature.isLowS(high))
        XCTAssertEqual(ECDSASignature.normalized(high), low)
        XCTAssertEqual(ECDSASignature.normalized(low), low)
        XCTAssertFalse(key.publicKey.verify(signature: high, hash: hash))
        XCTAssertTrue(key.publicKey.verify(signature: high, hash: hash, allowHighS: true))
        XCTAssertFalse(key.publicKey.verify(signature: low, hash: SHA256.hash([0])))
        XCTAssertNil(ECDSASignature.normalized([UInt8](repeating: 0xff, count: 64)))
        XCTAssertFalse(ECDSASignature.isWellFormed([UInt8](repeating: 0xff, count: 64)))
        XCTAssertTrue(ECDSASignature.isWellFormed(high))
        XCTAssertFalse(ECDSASignature.isWellFormed([1, 2]))
    }
}
