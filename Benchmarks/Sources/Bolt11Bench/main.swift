// Bolt11Bench: BOLT 11 decode + signature check throughput on one core.
//
// Workload: 1,000 distinct invoices made by our writer with LND-like fields (p, d, c, x, s, 9, a
// route hint on every fourth), signed by 1,000 different keys. Measured separately:
//   recover  - no `n` field: the payee is recovered from the signature (what LND writes)
//   verify   - with `n`: the signature is verified against it
//   encode   - writing + signing (for reference)
// Each phase runs for about 3 s on the calling thread; the figure is invoices per second.
// Goal (issue): >= 20,000 decodes/s on one core.
import Foundation
import Crypto
import BOLT11

func makeInvoices(count: Int, withPayee: Bool) throws -> [String] {
    var out = [String]()
    out.reserveCapacity(count)
    for i in 0..<count {
        let key = PrivateKey.generate()
        var fields: [TaggedField] = [.paymentHash(SecureRandom.bytes(32)), .description("bench invoice \(i) for a coffee"),
                                     .minFinalCLTVExpiry(80), .expiry(86_400)]
        if i % 4 == 0 {
            fields.append(.routeHint([HopHint(nodeID: PrivateKey.generate().publicKey, shortChannelID: UInt64(i) << 40 | 1,
                                              feeBaseMsat: 1000, feeProportionalMillionths: 1, cltvExpiryDelta: 40)]))
        }
        fields += [.paymentSecret(SecureRandom.bytes(32)), .features(FeatureVector(bits: [8, 14, 17]))]
        if withPayee { fields.append(.payee(key.publicKey)) }
        let unsigned = UnsignedBolt11Invoice(currency: .bitcoinTestnet, amountMsat: UInt64(1_000 + i * 997),
                                             timestamp: 1_800_000_000 + UInt64(i), fields: fields)
        out.append(try unsigned.sign(with: key).paymentRequest)
    }
    return out
}

/// This thread's CPU time in seconds (the per-core figure even when the machine is shared).
func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func measure(_ name: String, seconds: Double = 3, _ body: () throws -> Int) rethrows {
    _ = try body()  // warm-up
    var done = 0
    let start = Date(), cpuStart = threadCPUTime()
    var elapsed = 0.0
    repeat {
        done += try body()
        elapsed = Date().timeIntervalSince(start)
    } while elapsed < seconds
    let cpu = threadCPUTime() - cpuStart
    print("\(name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%9.0f", Double(done) / cpu)) invoices/CPU-s"
          + "  \(String(format: "%9.0f", Double(done) / elapsed)) invoices/wall-s  (\(done) in \(String(format: "%.2f", cpu)) CPU-s)")
}

/// `BOLT11BENCH_ONLY=recover` (or `verify`) runs that decode phase alone, for profiling.
let only = ProcessInfo.processInfo.environment["BOLT11BENCH_ONLY"]
let recoverSet = try makeInvoices(count: 1000, withPayee: false)
let verifySet = try makeInvoices(count: 1000, withPayee: true)
print("Bolt11Bench: decode + signature check, one thread, \(recoverSet.count) distinct invoices per set")
if only != "verify" { try measure("decode (recover payee)") {
    for s in recoverSet { _ = try Bolt11Invoice.decode(s) }
    return recoverSet.count
} }
if only == "recover" { exit(0) }
try measure("decode (verify against n)") {
    for s in verifySet { _ = try Bolt11Invoice.decode(s) }
    return verifySet.count
}
if only == "verify" { exit(0) }
let key = PrivateKey.generate()
let unsigned = try recoverSet.prefix(200).map { try Bolt11Invoice.decode($0).unsigned }
try measure("encode + sign") {
    for u in unsigned { _ = try u.sign(with: key) }
    return unsigned.count
}

// Floors: the libsecp256k1 operation alone, on the same signatures, to show how much of a decode
// is the curve arithmetic versus our parsing.
let decodedRecover = try recoverSet.map { try Bolt11Invoice.decode($0) }
let recoverInputs = try decodedRecover.map { ($0.signature, Int32($0.recoveryID), try $0.unsigned.signingHash()) }
try measure("floor: secp256k1 recover") {
    for (sig, recid, hash) in recoverInputs { _ = try PublicKey.recover(signature: sig, recoveryID: recid, hash: hash) }
    return recoverInputs.count
}
let decodedVerify = try verifySet.map { try Bolt11Invoice.decode($0) }
let verifyInputs = try decodedVerify.map { ($0.payee, $0.signature, try $0.unsigned.signingHash()) }
measure("floor: secp256k1 verify") {
    for (key, sig, hash) in verifyInputs { precondition(key.verify(signature: sig, hash: hash)) }
    return verifyInputs.count
}
