import Crypto
import XCTest
@testable import Macaroons

final class MacaroonIdentifierTests: XCTestCase {
    func testEncodingIsCanonicalAndGrouped() {
        let id = MacaroonIdentifier.new(storageID: Array("12".utf8), permissions: [
            .init("offchain", "write"), .init("info", "read"), .init("offchain", "read"),
            .init("info", "read"), .init("address", "write"),
        ])
        XCTAssertEqual(id.nonce.count, 16)
        XCTAssertEqual(id.permissions, [.init("address", "write"), .init("info", "read"),
                                        .init("offchain", "read"), .init("offchain", "write")])
        let bytes = id.encoded()
        // 0x03, nonce, storageId "12", then one Op per entity, actions in order.
        var expected: [UInt8] = [3, 0x0a, 16] + id.nonce + [0x12, 2, 0x31, 0x32]
        expected += [0x1a, 16, 0x0a, 7] + Array("address".utf8) + [0x12, 5] + Array("write".utf8)
        expected += [0x1a, 12, 0x0a, 4] + Array("info".utf8) + [0x12, 4] + Array("read".utf8)
        expected += [0x1a, 23, 0x0a, 8] + Array("offchain".utf8) + [0x12, 4] + Array("read".utf8) + [0x12, 5] + Array("write".utf8)
        XCTAssertEqual(bytes, expected)
        let decoded = try! MacaroonIdentifier.decode(protobuf: bytes[1...])
        XCTAssertEqual(decoded, id)
    }

    func testDefaultSetsAreLNDs() {
        XCTAssertEqual(Set(MacaroonPermission.admin.map(\.description)), [
            "address:read", "address:write", "info:read", "info:write", "invoices:read", "invoices:write",
            "macaroon:generate", "macaroon:read", "macaroon:write", "message:read", "message:write",
            "offchain:read", "offchain:write", "onchain:read", "onchain:write", "peers:read", "peers:write",
            "remotesigner:generate", "signer:generate", "signer:read",
        ])
        XCTAssertEqual(Set(MacaroonPermission.readOnly.map(\.description)), [
            "onchain:read", "offchain:read", "address:read", "message:read", "peers:read", "info:read",
            "invoices:read", "signer:read", "macaroon:read",
        ])
        XCTAssertEqual(Set(MacaroonPermission.invoice.map(\.description)),
                       ["invoices:read", "invoices:write", "address:read", "address:write", "onchain:read"])
        XCTAssertEqual(Set(MacaroonPermission.router.map(\.description)), ["offchain:read", "offchain:write"])
    }

    func testDecodeErrors() {
        let checker = Fixture.checker()
        func check(_ id: [UInt8]) throws(MacaroonError) {
            let m = MacaroonSigner.mint(rootKey: Fixture.rootKey, identifier: id)
            try checker.checkRequest(macaroonValues: [Fixture.hex(m)], fullMethod: "/lnrpc.Lightning/GetInfo", peerIP: "127.0.0.1")
        }
        XCTAssertMacaroonError("invalid ID") { try check([]) }
        XCTAssertMacaroonError("invalid ID") { try check([2, 1, 2]) }
        XCTAssertMacaroonError("invalid ID") { try check(Array("AwoQ".utf8)) }
        XCTAssertMacaroonError("cannot retrieve macaroon: cannot unmarshal macaroon id: proto: cannot parse invalid wire-format data") {
            try check([3, 0x0a, 5, 1])
        }
        XCTAssertMacaroonError("cannot retrieve macaroon: no operations found in macaroon") {
            try check([3, 0x12, 1, 0x30])
        }
        XCTAssertMacaroonError("cannot retrieve macaroon: no operations found in macaroon") {
            try check([3, 0x12, 1, 0x30, 0x1a, 2, 0x0a, 0])
        }
        // A known field with another wire type is an unknown field (protobuf-go), not an error.
        XCTAssertMacaroonError("cannot retrieve macaroon: no operations found in macaroon") {
            try check([3, 0x08, 1, 0x18, 5])
        }
        XCTAssertMacaroonError("cannot retrieve macaroon: cannot get macaroon: root key with id 9 doesn't exist") {
            try check(MacaroonIdentifier(nonce: [], storageID: Array("9".utf8), permissions: [.init("info", "read")]).encoded())
        }
    }
}
