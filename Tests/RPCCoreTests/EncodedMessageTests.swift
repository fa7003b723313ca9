import XCTest
import RPCCore

final class EncodedMessageTests: XCTestCase {
    func testOwnCopyIsEqualButSeparate() {
        let f = EncodedMessage(message: Array(0..<40))
        let g = f.ownCopy()
        XCTAssertEqual(f.framed, g.framed)
        f.framed.withUnsafeBufferPointer { p in g.framed.withUnsafeBufferPointer { q in XCTAssertNotEqual(p.baseAddress, q.baseAddress) } }
    }

    func testPayloadAndLength() {
        let m: [UInt8] = Array(repeating: 7, count: 300)
        let f = EncodedMessage(message: m)
        XCTAssertEqual(f.messageCount, 300)
        XCTAssertEqual(Array(f.payload), m)
        XCTAssertEqual(Array(f.framed.prefix(5)), [0, 0, 0, 1, 44])
    }

    /// The alternate form is stored once; a second store keeps the first.
    func testAlternateIsSetOnce() {
        final class Box: Sendable { let v: Int; init(_ v: Int) { self.v = v } }
        let f = EncodedMessage(message: [1, 2, 3])
        XCTAssertNil(f.alternate.load())
        let first = f.alternate.storeIfNil(Box(1)) as? Box
        let second = f.alternate.storeIfNil(Box(2)) as? Box
        XCTAssertEqual(first?.v, 1)
        XCTAssertEqual(second?.v, 1)
    }
}
