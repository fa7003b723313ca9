import XCTest
@testable import Routing

final class RouteBuildTests: XCTestCase {
    typealias G = TestGraphs

    func testFeeFormulaIsBOLT7() {
        let p = RoutingPolicy(feeBaseMsat: 1000, feeRatePPM: 1000)
        XCTAssertEqual(p.fee(forwarding: 1_004_000), 1000 + 1004)
        XCTAssertEqual(p.fee(forwarding: 999), 1000)  // 999 * 1000 / 1e6 rounds down to 0
        XCTAssertEqual(RoutingPolicy(feeBaseMsat: 0, feeRatePPM: 1).fee(forwarding: 1_999_999), 1)
        // No overflow at the extremes.
        XCTAssertEqual(RoutingPolicy(feeBaseMsat: 0, feeRatePPM: 4_000_000_000).fee(forwarding: .max), .max)
        XCTAssertEqual(DensePolicy(p).fee(forwarding: 1_004_000), 2004)
    }

    func testShortChannelIDPacking() {
        let s = ShortChannelID(blockHeight: 539_268, txIndex: 845, outputIndex: 1)!
        XCTAssertEqual(s.rawValue, 539_268 << 40 | 845 << 16 | 1)
        XCTAssertEqual(s.description, "539268x845x1")
        XCTAssertEqual(ShortChannelID(string: "539268x845x1"), s)
        XCTAssertEqual(ShortChannelID(string: String(s.rawValue)), s)
        XCTAssertNil(ShortChannelID(blockHeight: 1 << 24, txIndex: 0, outputIndex: 0))
        XCTAssertNil(ShortChannelID(string: "1x2"))
    }

    /// Hand computation (BOLT 4/7): S → A → B → T, 1,000,000 msat, final delta 18, height 100.
    /// B charges 2000 + 1e6·2000/1e6 = 4000 on B→T; A charges 1000 + 1,004,000·1000/1e6 = 2004
    /// on A→B. Expiries: T gets 118, B forwards at 118 and receives 148, A receives 188.
    func testPathAmountsFeesAndExpiriesMatchHandComputation() throws {
        var g = G.diamond()
        g.removeChannel(G.scid(5))  // leave S-A-B-T and S-D-T (too small)
        let route = try PathFinder.findRoute(in: g, request: G.request(1_000_000))
        XCTAssertEqual(route.hops.map(\.pubKey), [G.a, G.b, G.t])
        XCTAssertEqual(route.hops.map(\.chanID), [G.scid(1), G.scid(2), G.scid(3)])
        XCTAssertEqual(route.hops.map(\.amtToForwardMsat), [1_004_000, 1_000_000, 1_000_000])
        XCTAssertEqual(route.hops.map(\.feeMsat), [2004, 4000, 0])
        XCTAssertEqual(route.hops.map(\.expiry), [148, 118, 118])
        XCTAssertEqual(route.totalAmountMsat, 1_006_004)
        XCTAssertEqual(route.totalFeesMsat, 6004)
        XCTAssertEqual(route.totalTimeLock, 188)
        XCTAssertEqual(route.incomingAmountMsat(ofHop: 1), 1_004_000)
        XCTAssertEqual(route.incomingExpiry(ofHop: 0), 188)
    }

    func testDirectChannelRouteHasNoFee() throws {
        var g = ChannelGraph()
        G.add(&g, 1, G.s, G.t, forward: G.policy(5000, 5000, 40))
        let route = try PathFinder.findRoute(in: g, request: G.request(50_000))
        XCTAssertEqual(route.hops.count, 1)
        XCTAssertEqual(route.totalAmountMsat, 50_000)
        XCTAssertEqual(route.totalFeesMsat, 0)
        XCTAssertEqual(route.totalTimeLock, 118)
        XCTAssertEqual(route.hops[0].expiry, 118)
    }

    func testFinalHopCarriesMPPAndCustomRecords() throws {
        var r = G.request(1_000_000)
        r.mppRecord = PaymentData(paymentAddr: [UInt8](repeating: 7, count: 32), totalAmountMsat: 3_000_000)
        r.destCustomRecords = [SourceRoute.keysendRecordType: [UInt8](repeating: 1, count: 32)]
        let route = try PathFinder.findRoute(in: G.diamond(), request: r)
        XCTAssertEqual(route.hops.last?.mppRecord, r.mppRecord)
        XCTAssertEqual(route.hops.last?.customRecords[5_482_373_484], [UInt8](repeating: 1, count: 32))
        XCTAssertTrue(route.hops.dropLast().allSatisfy { $0.mppRecord == nil && $0.customRecords.isEmpty })
        XCTAssertTrue(r.isKeysend)
    }

    func testChannelUpdateSerializationAndApply() {
        var g = G.diamond()
        let newPolicy = G.policy(7777, 3, 99)
        let edge = g.channel(G.scid(2))!
        let dir: UInt8 = edge.node1 == G.a ? 0 : 1
        let u = ChannelUpdate(chainHash: [UInt8](repeating: 0xaa, count: 32), shortChannelID: G.scid(2),
                              timestamp: 50, direction: dir, policy: newPolicy)
        XCTAssertEqual(u.wireBytes.count, 2 + 64 + 32 + 8 + 4 + 1 + 1 + 2 + 8 + 4 + 4 + 8)
        XCTAssertEqual(Array(u.wireBytes.prefix(2)), [0x01, 0x02])
        XCTAssertTrue(g.apply(u))
        XCTAssertEqual(g.channel(G.scid(2))?.policy(from: G.a)?.feeBaseMsat, 7777)
        // An older update does not replace a newer one.
        let old = ChannelUpdate(chainHash: u.chainHash, shortChannelID: G.scid(2), timestamp: 10, direction: dir,
                                policy: G.policy(1, 1, 1))
        XCTAssertFalse(g.apply(old))
        XCTAssertEqual(g.channel(G.scid(2))?.policy(from: G.a)?.feeBaseMsat, 7777)
    }

    func testFailureCodesWireValues() {
        XCTAssertEqual(FailureCode.temporaryChannelFailure.wireCode, 0x1007)
        XCTAssertEqual(FailureCode.unknownNextPeer.wireCode, 0x400a)
        XCTAssertEqual(FailureCode.feeInsufficient.wireCode, 0x100c)
        XCTAssertEqual(FailureCode.channelDisabled.wireCode, 0x1014)
        XCTAssertEqual(FailureCode.incorrectOrUnknownPaymentDetails.wireCode, 0x400f)
        XCTAssertEqual(FailureCode.mppTimeout.wireCode, 23)
        XCTAssertEqual(FailureCode.mppTimeout.rawValue, 23)
        XCTAssertEqual(FailureCode.temporaryChannelFailure.rawValue, 15)
        XCTAssertTrue(FailureCode.expiryTooSoon.carriesChannelUpdate)
        XCTAssertFalse(FailureCode.unknownNextPeer.carriesChannelUpdate)
        XCTAssertTrue(FailureCode.incorrectOrUnknownPaymentDetails.isPermanent)
    }
}
