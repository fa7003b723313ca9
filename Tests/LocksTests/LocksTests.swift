import Foundation
import Locks
import XCTest

final class LocksTests: XCTestCase {
    func testLockedValueSerializesWriters() {
        let counter = LockedValue(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
        }
        XCTAssertEqual(counter.withLock { $0 }, 80_000)
    }

    func testLockWithLockReturnsAndRethrowsTypedErrors() {
        struct Refused: Error, Equatable {}
        let lock = Lock()
        XCTAssertEqual(lock.withLock { 7 }, 7)
        do {
            try lock.withLock { () throws(Refused) -> Void in throw Refused() }
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error, Refused())
        }
        // The lock was released by the throwing body.
        XCTAssertEqual(lock.withLock { 8 }, 8)
    }

    func testLatchFirstFulfilWinsAndWakesEveryWaiter() {
        let latch = Latch<Int>()
        let results = LockedValue([Int]())
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                let v = latch.wait()
                results.withLock { $0.append(v) }
                group.leave()
            }
        }
        latch.fulfil(1)
        latch.fulfil(2)
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(results.withLock { $0 }, [1, 1, 1, 1])
        XCTAssertEqual(latch.wait(), 1)
    }

    func testConditionWaitsForItsPredicate() {
        final class Flag: @unchecked Sendable { var ready = false }  // guarded by condition.lock
        let condition = Condition()
        let flag = Flag()
        Thread.detachNewThread {
            condition.lock.withLock { flag.ready = true }
            condition.signal()
        }
        condition.lock.lock()
        while !flag.ready { condition.wait() }
        condition.lock.unlock()
        XCTAssertTrue(flag.ready)
    }
}
