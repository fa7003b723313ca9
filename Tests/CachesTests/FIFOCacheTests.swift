import Caches
import XCTest

final class FIFOCacheTests: XCTestCase {
    func testEvictsTheOldestInsertedKeyBeyondCapacity() {
        var c = FIFOCache<Int, String>(capacity: 3)
        for i in 0..<5 { c.insert("v\(i)", forKey: i) }
        XCTAssertEqual(c.count, 3)
        XCTAssertNil(c[0]); XCTAssertNil(c[1])
        XCTAssertEqual(c[4], "v4")
    }

    func testReplacingKeepsTheKeysPlaceAndHonoursTheRule() {
        var c = FIFOCache<Int, Int>(capacity: 2)
        c.insert(1, forKey: 10)
        c.insert(2, forKey: 20)
        c.insert(5, forKey: 10, replace: { old, new in old <= new })
        XCTAssertEqual(c[10], 5)
        c.insert(3, forKey: 10, replace: { old, new in old <= new })
        XCTAssertEqual(c[10], 5, "an older value does not replace a newer one")
        c.insert(7, forKey: 30)
        XCTAssertNil(c[10], "10 was inserted first: replacing it did not move it")
        XCTAssertEqual(c[20], 2)
    }

    func testMemoryStaysBoundedOverManyInsertions() {
        var c = FIFOCache<Int, Int>(capacity: 100)
        for i in 0..<200_000 { c.insert(i, forKey: i) }
        XCTAssertEqual(c.count, 100)
        XCTAssertEqual(c[199_999], 199_999)
        c.removeValue(forKey: 199_999)
        XCTAssertNil(c[199_999])
        c.removeAll()
        XCTAssertEqual(c.count, 0)
    }
}
