import XCTest
import Transport

final class EventLoopTests: XCTestCase {
    func testExecuteFromOtherThreadsRunsOnLoop() {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let loop = group.next()
        let done = Latch<Bool>()
        loop.execute { done.fulfil(loop.inEventLoop) }
        XCTAssertTrue(done.wait())
        XCTAssertFalse(loop.inEventLoop)
    }

    func testTimersFireInOrderAndCancel() {
        let loop = EventLoop()
        loop.start()
        defer { loop.stop(); loop.waitForExit() }
        final class Log: @unchecked Sendable { var order: [Int] = [] }
        let log = Log()
        let done = Latch<[Int]>()
        loop.execute {
            loop.scheduleTimer(afterNanos: 30_000_000) { log.order.append(3); done.fulfil(log.order) }
            let t = loop.scheduleTimer(afterNanos: 10_000_000) { log.order.append(99) }
            loop.scheduleTimer(afterNanos: 5_000_000) { log.order.append(1) }
            loop.scheduleTimer(afterNanos: 20_000_000) { log.order.append(2) }
            loop.cancelTimer(t)
        }
        XCTAssertEqual(done.wait(), [1, 2, 3])
    }

    func testAdoptedLoopRunsTasksOnDemand() {
        let loop = EventLoop()
        loop.adoptCurrentThread()
        XCTAssertTrue(loop.inEventLoop)
        final class Box: @unchecked Sendable { var n = 0 }
        let b = Box()
        loop.execute { b.n += 1 }
        XCTAssertEqual(b.n, 0)
        XCTAssertEqual(loop.runPendingTasks(), 1)
        XCTAssertEqual(b.n, 1)
    }
}
