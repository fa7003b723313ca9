import Locks
import XCTest
@testable import Transport

/// Counts the test destructor's completions (a C destructor cannot capture).
private let loopThreadDestructorsFinished = LockedValue<Int>(0)

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

    /// `waitForExit` returns only after the loop's thread has ended, its thread-local destructors
    /// included (OpenSSL keeps per-thread state this way; a process exiting while they still ran
    /// crashed once). The destructor here sleeps, so a wait that returned at the end of `run()`
    /// would see it unfinished.
    func testWaitForExitReturnsAfterTheThreadsDestructors() {
        var key = pthread_key_t()
        XCTAssertEqual(pthread_key_create(&key, { _ in
            usleep(100_000)
            loopThreadDestructorsFinished.withLock { $0 += 1 }
        }), 0)
        defer { pthread_key_delete(key) }
        let threadKey = key
        let before = loopThreadDestructorsFinished.withLock { $0 }
        let loop = EventLoop()
        loop.start()
        let set = Latch<Bool>()
        loop.execute { set.fulfil(pthread_setspecific(threadKey, UnsafeRawPointer(bitPattern: 1)) == 0) }
        XCTAssertTrue(set.wait())
        loop.stop()
        loop.waitForExit()
        XCTAssertEqual(loopThreadDestructorsFinished.withLock { $0 }, before + 1)
        loop.waitForExit()   // idempotent: the thread is joined once
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

    /// A timer armed while the loop flushes (the flush of work a timer's callback left) fires on
    /// time, although the loop computed its wait before that flush.
    func testATimerArmedWhileFlushingFires() {
        final class Rearm: EventLoopFlushable, @unchecked Sendable {
            let loop: EventLoop, fired: XCTestExpectation
            init(loop: EventLoop, fired: XCTestExpectation) { self.loop = loop; self.fired = fired }
            func flushPending() { loop.scheduleTimer(afterNanos: 20_000_000) { self.fired.fulfill() } }
        }
        let loop = EventLoop()
        loop.start()
        defer { loop.stop(); loop.waitForExit() }
        let fired = expectation(description: "the timer armed in the flush fired")
        let rearm = Rearm(loop: loop, fired: fired)
        loop.execute { loop.scheduleTimer(afterNanos: 1_000_000) { loop.markDirty(rearm) } }
        wait(for: [fired], timeout: 5)
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

    /// Idle work waits while the loop has work, and runs once a turn finds nothing to do.
    func testIdleWorkWaitsForAQuietTurn() {
        let loop = EventLoop()
        loop.start()
        defer { loop.stop(); loop.waitForExit() }
        final class Log: EventLoopTask, @unchecked Sendable {
            var busyTurnsLeft = 200
            var busyTurnsWhenIdleRan = -1
            let done = Latch<Int>()
            func runOnLoop() { busyTurnsWhenIdleRan = busyTurnsLeft; done.fulfil(busyTurnsLeft) }
        }
        let log = Log()
        // A chain of tasks, each queueing the next: the loop always has ready work until it ends.
        @Sendable func busy() {
            if log.busyTurnsLeft == 0 { return }
            log.busyTurnsLeft -= 1
            loop.execute { busy() }
        }
        loop.execute {
            loop.executeWhenIdle(log)
            busy()
        }
        XCTAssertEqual(log.done.wait(), 0, "idle work ran only after the busy chain ended")
    }

    /// Idle work waits until the loop has had nothing to do for its whole quiet period: short
    /// pauses between bursts of work (a fan-out's loop waiting for the client's reads) are not idle.
    func testIdleWorkWaitsOutShortPausesBetweenWork() {
        let loop = EventLoop(idleQuietNanos: 300_000_000, idleWorkMaxDelayNanos: 20_000_000_000)
        loop.start()
        defer { loop.stop(); loop.waitForExit() }
        final class Log: EventLoopTask, @unchecked Sendable {
            var fed = 0                    // tasks run so far (loop thread)
            let ran = Latch<Int>()
            func runOnLoop() { ran.fulfil(fed) }
        }
        let log = Log()
        let queued = Latch<Bool>()
        loop.execute { loop.executeWhenIdle(log); queued.fulfil(true) }
        XCTAssertTrue(queued.wait())
        // 40 tasks 3 ms apart: every pause is far shorter than the quiet period.
        for _ in 0..<40 {
            usleep(3_000)
            loop.execute { log.fed += 1 }
        }
        XCTAssertEqual(log.ran.wait(), 40, "idle work ran only once the pauses had ended")
    }

    /// Under work that never stops, idle work still runs after `idleWorkMaxDelayNanos`.
    func testIdleWorkRunsUnderContinuousLoadAfterItsMaximumDelay() {
        let loop = EventLoop()
        loop.start()
        defer { loop.stop(); loop.waitForExit() }
        final class State: EventLoopTask, @unchecked Sendable {
            var stop = false
            let ran = Latch<Bool>()
            func runOnLoop() { stop = true; ran.fulfil(true) }
        }
        let st = State()
        @Sendable func busy() { if !st.stop { loop.execute { busy() } } }
        loop.execute {
            loop.executeWhenIdle(st)
            busy()
        }
        XCTAssertTrue(st.ran.wait())
    }
}
