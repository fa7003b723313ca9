import Foundation
import XCTest
import SQLite
@testable import Payments
@testable import PaymentStore

/// kill -9 at arbitrary moments: a child process (this test binary, re-run in helper mode via
/// an environment variable) writes payments and prints an acknowledgement after each commit;
/// the parent SIGKILLs it, reopens the file and checks that every acknowledged change is there,
/// nothing is duplicated, and the unfinished payments are listed in flight and trackable.
final class CrashRecoveryTests: XCTestCase {
    static let dbVar = "PAYTRACK_CRASH_CHILD_DB"
    static let startVar = "PAYTRACK_CRASH_CHILD_START"

    /// Helper mode only: skipped (not counted as a pass) in a normal run.
    func testCrashChildWriter() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.dbVar] else {
            throw XCTSkip("helper for testKillNineLosesNothingCommitted (runs only in the child process)")
        }
        let start = UInt64(ProcessInfo.processInfo.environment[Self.startVar] ?? "0") ?? 0
        var o = SQLitePaymentStore.Options()
        o.durability = .normal
        let store = try SQLitePaymentStore(path: path, options: o)
        let control = PaymentControl(store: store, tower: ControlTower(store: store))
        let out = FileHandle.standardOutput
        // Four writers, each its own payments: init → register → settle, acknowledging each step.
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            var n = start + UInt64(w)
            while true {
                let hash = Fixture.hash(n)
                do {
                    try control.initPayment(Fixture.info(n))
                    out.write("init \(n)\n".data(using: .utf8)!)
                    try control.registerAttempt(hash, Fixture.attempt(n))
                    out.write("attempt \(n)\n".data(using: .utf8)!)
                    try control.settleAttempt(hash, attemptID: n, Fixture.settle(n))
                    out.write("settle \(n)\n".data(using: .utf8)!)
                } catch {
                    out.write("error \(n) \(error)\n".data(using: .utf8)!)
                    return
                }
                n += 4
            }
        }
    }

    func testKillNineLosesNothingCommitted() throws {
        let dir = Fixture.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/payments.sqlite"
        var acked: [UInt64: String] = [:]   // n → furthest acknowledged step
        let rank = ["init": 1, "attempt": 2, "settle": 3]
        var start: UInt64 = 1
        for (round, threshold) in [150, 40, 400].enumerated() {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["PaymentsTests.CrashRecoveryTests/testCrashChildWriter"]
            var env = ProcessInfo.processInfo.environment
            env[Self.dbVar] = path
            env[Self.startVar] = String(start)
            child.environment = env
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            try child.run()
            var buffer = Data()
            var lines = 0
            let deadline = Date().addingTimeInterval(60)
            let reader = pipe.fileHandleForReading
            while lines < threshold && Date() < deadline {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                lines = buffer.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            buffer.append(reader.readDataToEndOfFile())
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "round \(round): the child was killed, not finished")
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count >= 2, let n = UInt64(parts[1]) else { continue }
                XCTAssertNotEqual(parts[0], "error", String(line))
                if let r = rank[String(parts[0])], r > rank[acked[n] ?? "", default: 0] { acked[n] = String(parts[0]) }
            }
            XCTAssertGreaterThanOrEqual(acked.count, min(threshold / 3, 10), "round \(round) made progress")
            start = (acked.keys.max() ?? 0) + 8

            // Reopen after the crash and check.
            let h = try Harness(dir: dir)
            for (n, step) in acked {
                let p = try XCTUnwrap(h.store.fetchPayment(Fixture.hash(n)), "acknowledged payment \(n) lost")
                switch step {
                case "settle": XCTAssertEqual(p.status, .succeeded)
                case "attempt": XCTAssertGreaterThanOrEqual(p.attempts.count, 1)
                default: break
                }
                XCTAssertLessThanOrEqual(p.attempts.count, 1, "no duplicated attempt")
            }
            // Consistency of everything that is there, whether acknowledged or not.
            let db = try Database(path: path)
            let check = try db.prepare("PRAGMA integrity_check")
            XCTAssertTrue(try check.step())
            XCTAssertEqual(check.text(0), "ok")
            let count = try db.prepare("SELECT COUNT(*), COUNT(DISTINCT hash), COUNT(DISTINCT payment_index) FROM payments")
            XCTAssertTrue(try count.step())
            XCTAssertEqual(count.int(0), count.int(1))
            XCTAssertEqual(count.int(0), count.int(2))
            XCTAssertEqual(UInt64(count.int(0)), try h.store.paymentCount(), "meta counter matches")
            let all = try h.store.queryPayments(PaymentsQuery(maxPayments: 100_000, includeIncomplete: true)).payments
            XCTAssertEqual(all.count, count.int(0))
            let statusRows = try db.prepare("SELECT hash, status FROM payments")
            var indexed: [PaymentHash: UInt8] = [:]
            while try statusRows.step() { indexed[PaymentHash(statusRows.blob(0))!] = UInt8(statusRows.int(1)) }
            for p in all { XCTAssertEqual(indexed[p.paymentHash], p.status.rawValue, "status index key matches derivation") }
            // Unfinished payments are listed in flight (from the index) and trackable.
            let unfinished = Set(all.filter { !$0.status.isTerminal }.map(\.paymentHash))
            XCTAssertEqual(Set(try h.control.inFlightPayments().map(\.paymentHash)), unfinished)
            for hash in unfinished {
                let m = try h.tower.subscribePayment(hash)
                XCTAssertNotNil(m.poll())
                XCTAssertFalse(m.isFinished)
                m.cancel()
            }
            // The engine continues where it stopped: next index above everything stored.
            let maxIndex = all.map(\.paymentIndex).max() ?? 0
            XCTAssertGreaterThan(try h.control.initPayment(Fixture.info(1_000_000 + UInt64(round))).paymentIndex, maxIndex)
        }
    }
}
