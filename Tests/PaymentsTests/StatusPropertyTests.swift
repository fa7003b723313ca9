import XCTest
@testable import Payments
@testable import PaymentStore

/// Seeded random attempt histories: the derived status must match §6 as stated by an
/// independent oracle, every guard must refuse exactly when the oracle says so, and the store
/// must return exactly what the engine acknowledged (including its status index key).
final class StatusPropertyTests: XCTestCase {

    /// SplitMix64: deterministic across platforms.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// §6 in words, counted rather than scanned in order.
    static func oracle(_ p: PaymentSnapshot) -> PaymentStatus {
        let inFlight = p.attempts.filter { $0.settle == nil && $0.failure == nil }.count
        let settled = p.attempts.filter { $0.settle != nil }.count
        let failed = p.attempts.filter { $0.failure != nil }.count
        if inFlight > 0 { return .inFlight }
        if settled > 0 { return .succeeded }
        if p.failureReason != nil { return .failed }
        if failed > 0 { return .inFlight }
        return .initiated
    }

    func testRandomHistoriesMatchSection6() throws {
        let h = try Harness()
        let c = h.control
        var rng = RNG(state: 0x5EED_2026)
        var nextAttempt: UInt64 = 1
        var expected: [PaymentHash: PaymentSnapshot] = [:]
        let payments = 60
        for n in 0..<UInt64(payments) { expected[Fixture.hash(n)] = try c.initPayment(Fixture.info(n, valueMsat: 12_000)) }
        var outcomes: [String: Int] = [:]
        for _ in 0..<3_000 {
            let hash = Fixture.hash(UInt64(rng.below(payments)))
            let before = expected[hash]!
            let status = Self.oracle(before)
            XCTAssertEqual(before.status, status)
            let mpp = MPPRecord(paymentAddr: [UInt8](repeating: 7, count: 32), totalAmtMsat: 12_000)
            switch rng.below(6) {
            case 0, 1: // register a 4_000 msat MPP shard
                let id = nextAttempt
                nextAttempt += 1
                let sent = before.attempts.filter { $0.failure == nil }.count * 4_000
                let refusal: String? = switch status {
                case .succeeded: "payment is already succeeded"
                case .failed: "payment has already failed"
                case .inFlight where before.hasSettledAttempt: "payment has settled htlcs"
                case .inFlight where before.failureReason != nil: "payment has failure reason"
                default: sent + 4_000 > 12_000
                    ? "attempted value exceeds payment amount: attempted=\(sent + 4_000) mSAT, payment amount=12000 mSAT" : nil
                }
                check(try c.registerAttempt(hash, Fixture.attempt(id, amt: 4_000, mpp: mpp, timeNs: Int64(id))), refusal,
                      &expected, &outcomes, "register")
            case 2, 3: // settle or fail a random attempt
                guard !before.attempts.isEmpty else { continue }
                let a = before.attempts[rng.below(before.attempts.count)]
                let settle = rng.below(4) == 0
                let refusal: String? = status.isTerminal
                    ? (status == .succeeded ? "payment is already succeeded" : "payment has already failed")
                    : a.failure != nil ? "attempt already failed" : a.settle != nil ? "attempt already settled" : nil
                if settle {
                    check(try c.settleAttempt(hash, attemptID: a.attemptID, Fixture.settle(1)), refusal, &expected, &outcomes, "settle")
                } else {
                    check(try c.failAttempt(hash, attemptID: a.attemptID, Fixture.failure()), refusal, &expected, &outcomes, "fail")
                }
            case 4: // fail the payment: allowed in every known state
                let reason = FailureReason.allCases[rng.below(FailureReason.allCases.count)]
                check(try c.failPayment(hash, reason: reason), nil, &expected, &outcomes, "failPayment")
                XCTAssertEqual(expected[hash]!.failureReason, reason)
            default: // retry: only a Failed payment may be initialized again
                let refusal: String? = switch status {
                case .initiated: "payment already exists"
                case .inFlight: "payment is in transition"
                case .succeeded: "invoice is already paid"
                case .failed: nil
                }
                check(try c.initPayment(Fixture.info(UInt64(Int(hash.bytes[31])), valueMsat: 12_000)), refusal,
                      &expected, &outcomes, "init")
            }
            XCTAssertEqual(expected[hash]!.status, Self.oracle(expected[hash]!))
        }
        // Every kind of outcome was exercised.
        for key in ["register ok", "register refused", "settle ok", "fail ok", "fail refused", "failPayment ok", "init ok", "init refused"] {
            XCTAssertGreaterThan(outcomes[key, default: 0], 0, key)
        }
        // The store holds exactly the acknowledged snapshots, and its status index agrees.
        try h.reopen()
        for (hash, want) in expected {
            XCTAssertEqual(try h.store.fetchPayment(hash), want)
        }
        let inFlight = Set(try h.store.fetchInFlightPayments().map(\.paymentHash))
        XCTAssertEqual(inFlight, Set(expected.values.filter { !$0.status.isTerminal }.map(\.paymentHash)))
        let succeeded = try h.store.queryPayments(PaymentsQuery(maxPayments: 1_000))
        XCTAssertEqual(Set(succeeded.payments.map(\.paymentHash)),
                       Set(expected.values.filter { $0.status == .succeeded }.map(\.paymentHash)))
    }

    private func check(_ op: @autoclosure () throws -> PaymentSnapshot, _ refusal: String?,
                       _ expected: inout [PaymentHash: PaymentSnapshot], _ outcomes: inout [String: Int], _ name: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let s = try op()
            XCTAssertNil(refusal, "\(name) accepted, expected \(refusal ?? "")", file: file, line: line)
            expected[s.paymentHash] = s
            outcomes["\(name) ok", default: 0] += 1
        } catch {
            XCTAssertEqual("\(error)", refusal, name, file: file, line: line)
            outcomes["\(name) refused", default: 0] += 1
        }
    }
}
