// CodecBench: our hand-written codec (LightningRPC/ProtoWire) against swift-protobuf 1.39.0 code
// generated from the same Protos/ (SwiftProtobuf/*.pb.swift, made by protoc-gen-swift 1.39.0),
// on the realistic lnrpc.Payment of the interop tests. Run: Benchmarks/run codec.
import Foundation
import LightningRPC
import ProtoWire
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

/// Median nanoseconds per operation over `rounds` rounds of `iterations` operations.
func measure(rounds: Int = 21, iterations: Int, _ op: () throws -> Void) rethrows -> Double {
    for _ in 0..<(iterations / 10 + 1) { try op() }  // warm up
    var perOp: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        let start = clock.now
        for _ in 0..<iterations { try op() }
        let d = clock.now - start
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        perOp.append(ns / Double(iterations))
    }
    perOp.sort()
    return perOp[perOp.count / 2]
}

/// Swift heap allocations made by `body`.
func mallocs(_ body: () throws -> Void) rethrows -> Int {
    try countingAllocations(body)
}

/// The realistic Payment of the interop tests (3 HTLC attempts over 4 hops, one failed with a
/// Failure and ChannelUpdate, MPP and AMP records, custom and first-hop custom records), read from
/// its golden gateway-JSON fixture so that the benchmark and the tests share one definition.
let fixture = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/LightningRPCTests/Fixtures/payment.json")
let ours = try Lnrpc.Payment(gatewayJSONString: String(contentsOf: fixture, encoding: .utf8))
let bytes = ours.serializedBytes()
let theirs = try Lnrpc_Payment(serializedBytes: bytes)
let theirBytes: [UInt8] = try theirs.serializedBytes()
precondition(theirBytes.count == bytes.count, "swift-protobuf and our encodings differ in size")
let roundTripped = try Lnrpc.Payment(serializedBytes: theirBytes)
precondition(roundTripped == ours, "swift-protobuf bytes decode differently")

var writer = ProtoWriter(capacity: 64)
ours.encode(to: &writer)  // grows the buffer once
precondition(writer.bytes == bytes)

let n = 20_000
print("CodecBench: lnrpc.Payment, \(bytes.count) bytes (3 HTLCs x 4 hops, failure + channel update, MPP/AMP, custom records)")
print("median of 21 rounds x \(n) ops; ns/op (lower is better)\n")

let ourEncode = measure(iterations: n) {
    writer.reset()
    ours.encode(to: &writer)
    blackHole(writer.count)
}
let ourEncodeFresh = measure(iterations: n) { blackHole(ours.serializedBytes()) }
let theirEncode = try measure(iterations: n) { blackHole(try theirs.serializedBytes() as [UInt8]) }
let ourDecode = try measure(iterations: n) { blackHole(try Lnrpc.Payment(serializedBytes: bytes)) }
let theirDecode = try measure(iterations: n) { blackHole(try Lnrpc_Payment(serializedBytes: bytes)) }
/// `value` with `decimals` digits after the point, right-aligned to `width` (no Foundation).
func fmt(_ value: Double, _ decimals: Int, width: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    var text = String(scaled / Int64(scale))
    if decimals > 0 {
        let frac = String(abs(scaled) % Int64(scale))
        text += "." + String(repeating: "0", count: decimals - frac.count) + frac
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func row(_ name: String, _ ns: Double) {
    let mbps = Double(bytes.count) / ns * 1e3
    print(name + String(repeating: " ", count: max(0, 44 - name.count))
          + fmt(ns, 0, width: 9) + " ns  " + fmt(mbps, 1, width: 8) + " MB/s")
}
row("encode  ours (reused ProtoWriter)", ourEncode)
row("encode  ours (serializedBytes, fresh buffer)", ourEncodeFresh)
row("encode  swift-protobuf (serializedBytes)", theirEncode)
row("decode  ours", ourDecode)
row("decode  swift-protobuf", theirDecode)
print("")
print("encode throughput ours/swift-protobuf: \(fmt(theirEncode / ourEncode, 2))x (reused writer), "
      + "\(fmt(theirEncode / ourEncodeFresh, 2))x (fresh buffer)  [goal >= 2x]")
print("decode throughput ours/swift-protobuf: \(fmt(theirDecode / ourDecode, 2))x  [goal >= 1.5x]")

// Allocation counts come last: the runtime's allocation hook also reroutes retain/release, which
// breaks some String operations afterwards, so the counts are written with write(2) and the
// process exits without touching Strings again.
fflush(nil)
if CommandLine.arguments.contains("--no-alloc-count") { exit(0) }
let labels: [[UInt8]] = [
    "Swift heap allocations per 1,000 operations; calibration (one array): ", "  encode ours, reused ProtoWriter:  ",
    "  encode swift-protobuf:            ", "  decode ours:                      ", "  decode swift-protobuf:            ",
].map { Array($0.utf8) }
precondition(installAllocationCounter(), "this Swift runtime has no allocation hook")
let calibration = mallocs { blackHole([UInt8](repeating: 1, count: 1000 + swiftAllocations % 2)) }
let encodeAllocs = mallocs {
    for _ in 0..<1_000 {
        writer.reset()
        ours.encode(to: &writer)
    }
}
let theirEncodeAllocs = mallocs { for _ in 0..<1_000 { blackHole(try? theirs.serializedBytes() as [UInt8]) } }
let ourDecodeAllocs = mallocs { for _ in 0..<1_000 { blackHole(try? Lnrpc.Payment(serializedBytes: bytes)) } }
let theirDecodeAllocs = mallocs { for _ in 0..<1_000 { blackHole(try? Lnrpc_Payment(serializedBytes: bytes)) } }
for (label, count) in zip(labels, [calibration, encodeAllocs, theirEncodeAllocs, ourDecodeAllocs, theirDecodeAllocs]) {
    rawWrite(label, count)
}
exit(calibration >= 1 ? 0 : 1)

/// Writes `label`, `value` in decimal and a newline to stdout, without Strings.
func rawWrite(_ label: [UInt8], _ value: Int) {
    var line = label
    var digits: [UInt8] = []
    var v = value
    repeat { digits.append(UInt8(48 + v % 10)); v /= 10 } while v > 0
    line.append(contentsOf: digits.reversed())
    line.append(10)
    line.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}
