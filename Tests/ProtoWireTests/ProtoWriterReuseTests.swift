import ProtoWire
import XCTest

/// Encoding into a reused writer does not reallocate its buffer: after the first message has
/// grown it, `reset()` keeps the capacity and every later encode writes into the same storage.
/// (Benchmarks/Sources/CodecBench counts mallocs for the full LND Payment as well.)
final class ProtoWriterReuseTests: XCTestCase {
    func testResetKeepsStorage() {
        var m = AllTypes()
        m.s = String(repeating: "x", count: 300)
        m.packed = Array(0..<100)
        m.records = [1: [1], 2: [2], 3: [3]]
        var c = AllTypes()
        c.by = [UInt8](repeating: 9, count: 500)
        m.child = .init(c)
        var writer = ProtoWriter(capacity: 16)
        m.encode(to: &writer)
        let first = writer.bytes
        let capacity = writer.capacity
        let base = writer.withUnsafeBytes { $0.baseAddress }
        for _ in 0..<1_000 {
            writer.reset()
            m.encode(to: &writer)
            XCTAssertEqual(writer.capacity, capacity)
            XCTAssertEqual(writer.withUnsafeBytes { $0.baseAddress }, base)
        }
        XCTAssertEqual(writer.bytes, first)
    }

    func testBytesAreACopyThatSurvivesReuse() {
        var writer = ProtoWriter()
        writer.writeUInt64(1, field: 1)
        let snapshot = writer.bytes
        writer.reset()
        writer.writeUInt64(2, field: 1)
        XCTAssertEqual(snapshot, [0x08, 0x01])
        XCTAssertEqual(writer.bytes, [0x08, 0x02])
        // A copied writer is independent (value semantics).
        var copy = writer
        copy.writeUInt64(3, field: 2)
        XCTAssertEqual(writer.bytes, [0x08, 0x02])
        XCTAssertEqual(copy.bytes, [0x08, 0x02, 0x10, 0x03])
    }
}
