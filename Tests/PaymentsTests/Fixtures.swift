import Foundation
import XCTest
@testable import Payments
@testable import PaymentStore
import PostgresTestSupport

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

    /// An attempt with every optional route field set: MPP, AMP, blinding point, first-hop amount
    /// and records, custom channel data, and an attempt hash.
    static func richAttempt() -> HTLCAttemptInfo {
        var a = attempt(1, amt: 4_000, mpp: MPPRecord(paymentAddr: [UInt8](repeating: 9, count: 32), totalAmtMsat: 10_000))
        a.route.hops[1].ampRecord = AMPRecord(rootShare: [1], setID: [2], childIndex: 3)
        a.route.hops[1].blindingPoint = [5]
        a.route.firstHopAmountMsat = 4_100
        a.route.customChannelData = [8, 8]
        a.route.firstHopWireCustomRecords = [65_536: [1]]
        a.hash = hash(77)
        return a
    }

    static func settle(_ n: UInt64, timeNs: Int64 = 1_700_000_002_000_000_000) -> HTLCSettle {
        HTLCSettle(preimage: preimage(n), settleTimeNs: timeNs)
    }

    static func failure(timeNs: Int64 = 1_700_000_002_000_000_000, code: FailureCode = .temporaryChannelFailure) -> HTLCFailInfo {
        HTLCFailInfo(failTimeNs: timeNs, reason: .message,
                    message: StoredFailureMessage(code: code, channelUpdate: StoredChannelUpdate(signature: [1], chainHash: [2], chanID: 1,
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

/// The store implementations `PaymentStoreConformance` runs against.
enum StoreBackend: String {
    case sqlite, postgres
}

/// A real store with control and tower over it: a SQLite file in a temp dir, or a fresh database
/// on the test process's private PostgreSQL cluster (`PostgresCluster.shared()`; the test fails if
/// PostgreSQL cannot start).
final class Harness {
    let backend: StoreBackend
    let dir: String
    let path: String
    /// The PostgreSQL database (postgres backend).
    let dsn: String?
    var store: any PaymentPersistence
    var tower: ControlTower
    var control: PaymentControl
    let controlOptions: PaymentControl.Options
    let towerOptions: ControlTower.Options
    let ownsDirectory: Bool

    init(backend: StoreBackend = .sqlite, control controlOptions: PaymentControl.Options = PaymentControl.Options(),
         tower towerOptions: ControlTower.Options = ControlTower.Options(), dir: String? = nil) throws {
        self.backend = backend
        ownsDirectory = dir == nil
        self.dir = dir ?? Fixture.tempDirectory()
        path = self.dir + "/payments.sqlite"
        dsn = backend == .postgres ? try PostgresCluster.shared().createDatabase() : nil
        self.controlOptions = controlOptions
        self.towerOptions = towerOptions
        store = try Self.open(backend, path: path, dsn: dsn)
        tower = ControlTower(store: store, options: towerOptions)
        control = PaymentControl(store: store, tower: tower, options: controlOptions)
    }

    static func open(_ backend: StoreBackend, path: String, dsn: String?) throws -> any PaymentPersistence {
        switch backend {
        case .sqlite:
            var o = SQLitePaymentStore.Options()
            o.durability = .normal
            return try SQLitePaymentStore(path: path, options: o)
        case .postgres:
            var o = PostgresPaymentStore.Options(dsn: dsn!)
            o.maxConnections = 4
            o.timeoutSeconds = 30
            return try PostgresPaymentStore(options: o)
        }
    }

    /// Closes and opens the same database again (as a restart would).
    func reopen() throws {
        store.close()
        store = try Self.open(backend, path: path, dsn: dsn)
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
