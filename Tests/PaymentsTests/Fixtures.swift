import Foundation
import XCTest
@testable import Payments
@testable import PaymentStore

/// Deterministic test data and a temp-dir store harness.
enum Fixture {
    static func hash(_ n: UInt64) -> PaymentHash {
        var b = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: n.bigEndian) { for (i, x) in $0.enumerated() { b[24 + i] = x } }
        b[0] = 0xab
        return PaymentHash(b)!
    }

    static func preimage(_ n: UInt64) -> Preimage {
        var b = hash(n).bytes
        b[0] = 0x11
        return PaymentHash(b)!
    }

    static let pubA = [UInt8](repeating: 2, count: 33)
    static let pubB = [UInt8](repeating: 3, count: 33)

    static func info(_ n: UInt64, valueMsat: Int64 = 10_000, creationNs: Int64 = 1_700_000_000_000_000_000) -> PaymentCreationInfo {
        PaymentCreationInfo(paymentIdentifier: hash(n), valueMsat: valueMsat, creationTimeNs: creationNs,
                            paymentRequest: Array("lnbc\(n)".utf8), firstHopCustomRecords: [65_537: [1, 2]])
    }

    /// A two-hop route delivering `amt` with a 1_000 msat fee on the first hop.
    static func route(amt: Int64, mpp: MPPRecord? = nil, blindedTotal: UInt64? = nil, fee: Int64 = 1_000) -> Route {
        var final = Hop(chanID: 2, pubKey: pubB, amtToForwardMsat: amt, feeMsat: 0, expiry: 500, mppRecord: mpp,
                        customRecords: [5_482_373_484: [9]], metadata: [7])
        if let blindedTotal {
            final.encryptedData = [1, 2, 3]
            final.blindingPoint = pubA
            final.totalAmtMsat = blindedTotal
        }
        let first = Hop(chanID: 1, pubKey: pubA, amtToForwardMsat: amt, feeMsat: fee, expiry: 540)
        return Route(totalTimeLock: 580, totalAmtMsat: amt + fee, sourcePubKey: pubA, hops: [first, final])
    }

    static func attempt(_ id: UInt64, amt: Int64 = 10_000, mpp: MPPRecord? = nil, blindedTotal: UInt64? = nil,
                        timeNs: Int64 = 1_700_000_001_000_000_000) -> HTLCAttemptInfo {
        HTLCAttemptInfo(attemptID: id, sessionKey: [UInt8](repeating: UInt8(id & 0xff), count: 32),
                        route: route(amt: amt, mpp: mpp, blindedTotal: blindedTotal), attemptTimeNs: timeNs)
    }

    static func settle(_ n: UInt64, timeNs: Int64 = 1_700_000_002_000_000_000) -> HTLCSettle {
        HTLCSettle(preimage: preimage(n), settleTimeNs: timeNs)
    }

    static func failure(timeNs: Int64 = 1_700_000_002_000_000_000, code: FailureCode = .temporaryChannelFailure) -> HTLCFailure {
        HTLCFailure(failTimeNs: timeNs, reason: .message,
                    message: FailureMessage(code: code, channelUpdate: ChannelUpdate(signature: [1], chainHash: [2], chanID: 1,
                                                                                    timestamp: 3, messageFlags: 1, channelFlags: 0,
                                                                                    timeLockDelta: 40, htlcMinimumMsat: 1_000,
                                                                                    baseFee: 1, feeRate: 100, htlcMaximumMsat: 9_000,
                                                                                    extraOpaqueData: [4]),
                                            htlcMsat: 11_000),
                    failureSourceIndex: 1)
    }

    static func tempDirectory() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-payments-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A real SQLite file in a temp dir, with control and tower over it.
final class Harness {
    let dir: String
    let path: String
    var store: SQLitePaymentStore
    var tower: ControlTower
    var control: PaymentControl
    let controlOptions: PaymentControl.Options
    let towerOptions: ControlTower.Options
    let ownsDirectory: Bool

    init(control controlOptions: PaymentControl.Options = PaymentControl.Options(),
         tower towerOptions: ControlTower.Options = ControlTower.Options(), dir: String? = nil) throws {
        ownsDirectory = dir == nil
        self.dir = dir ?? Fixture.tempDirectory()
        path = self.dir + "/payments.sqlite"
        self.controlOptions = controlOptions
        self.towerOptions = towerOptions
        var o = SQLitePaymentStore.Options()
        o.durability = .normal
        store = try SQLitePaymentStore(path: path, options: o)
        tower = ControlTower(store: store, options: towerOptions)
        control = PaymentControl(store: store, tower: tower, options: controlOptions)
    }

    /// Closes and opens the same file again (as a restart would).
    func reopen() throws {
        store.close()
        var o = SQLitePaymentStore.Options()
        o.durability = .normal
        store = try SQLitePaymentStore(path: path, options: o)
        tower = ControlTower(store: store, options: towerOptions)
        control = PaymentControl(store: store, tower: tower, options: controlOptions)
    }

    deinit {
        store.close()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: dir) }
    }
}

func XCTAssertPaymentError<T>(_ expression: @autoclosure () throws -> T, _ expected: String, code: Int32? = nil,
                              file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expression()
        XCTFail("expected error \"\(expected)\"", file: file, line: line)
    } catch let e as PaymentError {
        XCTAssertEqual(e.description, expected, file: file, line: line)
        if let code { XCTAssertEqual(e.grpcCode, code, file: file, line: line) }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
