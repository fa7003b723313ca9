import Locks
import Glibc
import CNghttp2

/// Something registered with an `EventLoop` for readiness events on a file descriptor.
/// Called only on the loop's thread.
public protocol EventLoopSelectable: AnyObject {
    func handleEvents(readable: Bool, writable: Bool, hangup: Bool)
}

/// Something that wants a callback once per loop iteration, after events and tasks ran
/// (connections use it to coalesce output: one batch of TLS records and sends per iteration).
protocol EventLoopFlushable: AnyObject {
    func flushPending()
}

/// A cancellable timer handle. Only valid on the loop that created it.
public struct EventLoopTimer: Hashable, Sendable {
    let id: UInt64
}

/// Work handed to a loop by reference (see `EventLoop.execute(_: EventLoopTask)`).
public protocol EventLoopTask: AnyObject, Sendable {
    /// Called on the loop thread.
    func runOnLoop()
}

/// One queued unit of loop work.
private enum LoopWork {
    case closure(() -> Void)
    case task(EventLoopTask)
    @inline(__always) func run() {
        switch self {
        case .closure(let f): f()
        case .task(let t): t.runOnLoop()
        }
    }
}

/// One epoll event loop bound to one thread.
///
/// Contract: every object registered here (sockets, TLS engines, nghttp2 sessions) is touched only
/// on this loop's thread. Other threads hand work to the loop with `execute`, which pushes onto a
/// mutex-protected queue and wakes the loop through an eventfd. Nothing running on the loop blocks.
public final class EventLoop: @unchecked Sendable {
    public let index: Int
    private let epfd: Int32
    private let wakeFD: Int32
    private let queueLock = Lock()
    private var queue: [LoopWork] = []
    private var wakePending = false
    private var running = true
    /// The thread `start` made, until `waitForExit` has joined it (guarded by `joinLock`).
    private var thread: pthread_t?
    private let joinLock = Lock()
    private var threadID: pthread_t = pthread_t()
    private var registrations: [UInt64: EventLoopSelectable] = [:]
    private var nextToken: UInt64 = 1
    private var dirty: [EventLoopFlushable] = []
    /// Work queued with `executeWhenIdle` (loop thread only), when the oldest was queued, and
    /// (while any waits) when the loop last had an event or queued work.
    private var idleWork: [EventLoopTask] = []
    private var idleSince: UInt64 = 0
    private var lastBusy: UInt64 = 0
    /// How long the loop must have had no event and no queued work to count as idle (default). Long enough
    /// to outlast a fan-out's burst on the other loops and processes sharing the cores: a loop
    /// that has sent its part waits a few milliseconds for the client's reads and must not then
    /// spend them on housekeeping that the rest of the burst is still waiting for the CPU.
    public static let defaultIdleQuietNanos: UInt64 = 25_000_000
    /// The longest idle work waits for the loop to be idle before it runs anyway.
    public static let defaultIdleWorkMaxDelayNanos: UInt64 = 250_000_000
    let idleQuietNanos: UInt64
    let idleWorkMaxDelayNanos: UInt64
    // Timers: a binary min-heap of (deadline, id); callbacks kept in a dictionary so that
    // cancellation is O(1) (cancelled heap entries are skipped when they surface).
    private var heap: [(deadline: UInt64, id: UInt64)] = []
    private var timerCallbacks: [UInt64: () -> Void] = [:]
    private var nextTimerID: UInt64 = 1
    private let exitLatch = Latch<Bool>()

    /// Scratch buffers shared by every connection of this loop (safe: one thread).
    let readBuffer: UnsafeMutableRawBufferPointer
    let plainBuffer: UnsafeMutableRawBufferPointer
    let outBuffer: UnsafeMutableRawBufferPointer
    /// Ciphertext gathered for one `send` (see `Connection.flushPending`), and whether a flush
    /// holds it now.
    let sendBuffer: UnsafeMutableRawBufferPointer
    var sendBufferInUse = false

    /// `idleQuietNanos` and `idleWorkMaxDelayNanos`: when idle work runs (see `executeWhenIdle`).
    public init(index: Int = 0, idleQuietNanos: UInt64 = EventLoop.defaultIdleQuietNanos,
                idleWorkMaxDelayNanos: UInt64 = EventLoop.defaultIdleWorkMaxDelayNanos) {
        self.index = index
        self.idleQuietNanos = idleQuietNanos
        self.idleWorkMaxDelayNanos = idleWorkMaxDelayNanos
        epfd = pt_epoll_create()
        wakeFD = pt_eventfd()
        precondition(epfd >= 0 && wakeFD >= 0, "epoll/eventfd creation failed")
        _ = pt_epoll_ctl(epfd, PT_EPOLL_CTL_ADD, wakeFD, PT_EPOLLIN, 0)
        readBuffer = .allocate(byteCount: 65536, alignment: 16)
        plainBuffer = .allocate(byteCount: 16384 + 512, alignment: 16)
        outBuffer = .allocate(byteCount: 16384, alignment: 16)
        sendBuffer = .allocate(byteCount: 65536, alignment: 16)
    }

    deinit {
        close(epfd); close(wakeFD)
        readBuffer.deallocate(); plainBuffer.deallocate(); outBuffer.deallocate(); sendBuffer.deallocate()
    }

    /// Starts the loop on a new thread.
    public func start() {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let loop = Unmanaged<EventLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed")
        joinLock.withLock { thread = tid }
    }

    /// Makes the calling thread this loop's thread without running the loop: for socketless tests
    /// and fuzzing, where one thread drives sessions by hand (see `runPendingTasks`).
    public func adoptCurrentThread() { threadID = pthread_self() }

    /// Runs queued tasks and due timers once (adopted loops only). Returns the tasks run.
    @discardableResult
    public func runPendingTasks() -> Int {
        queueLock.lock()
        let tasks = queue
        queue.removeAll()
        wakePending = false
        queueLock.unlock()
        for t in tasks { t.run() }
        _ = runTimers()
        flushDirty()
        if !idleWork.isEmpty { runIdleWork() }
        return tasks.count
    }

    /// Drops every pending timer (adopted loops only; keeps fuzzing memory flat).
    public func cancelAllTimers() { timerCallbacks.removeAll(); heap.removeAll() }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool { pthread_equal(pthread_self(), threadID) != 0 }

    /// Runs `task` on the loop thread (later, even when called from the loop itself).
    public func execute(_ task: @escaping @Sendable () -> Void) {
        enqueue(.closure(task))
    }

    /// Runs `task.runOnLoop()` on the loop thread (later), in FIFO order with `execute(_:)`
    /// closures. Queues the object itself: no closure is allocated per call, so waking thousands
    /// of stream writers after one update costs one queue slot each and one eventfd write per loop.
    public func execute(_ task: EventLoopTask) {
        enqueue(.task(task))
    }

    /// Loop thread only: runs `task.runOnLoop()` once the loop is idle (no event and no queued
    /// work for `idleQuietNanos`), or `idleWorkMaxDelayNanos` after the oldest idle work was
    /// queued, whichever comes first. For housekeeping that must not delay live traffic, such as
    /// freeing the streams a fan-out just ended (`HTTP2Session.onStreamsToRelease`).
    public func executeWhenIdle(_ task: EventLoopTask) {
        precondition(inEventLoop, "executeWhenIdle is for the loop thread")
        if idleWork.isEmpty { idleSince = monotonicNanos(); lastBusy = idleSince }
        idleWork.append(task)
    }

    /// With idle work waiting: the epoll timeout (ms) that ends when the loop will have been quiet
    /// for `idleQuietNanos`, or sooner when `timeout` (the timers') does.
    private func idleWait(_ timeout: Int32) -> Int32 {
        let now = monotonicNanos()
        let quietAt = lastBusy &+ idleQuietNanos
        let left = quietAt > now ? Int32(min(UInt64(Int32.max), (quietAt - now + 999_999) / 1_000_000)) : 1
        return timeout < 0 ? left : min(timeout, left)
    }

    private func runIdleWork() {
        let work = idleWork
        idleWork = []
        for t in work { t.runOnLoop() }
        flushDirty()
    }

    func enqueue(_ task: @escaping () -> Void) { enqueue(.closure(task)) }

    private func enqueue(_ work: LoopWork) {
        queueLock.lock()
        queue.append(work)
        let needWake = !wakePending
        wakePending = true
        queueLock.unlock()
        if needWake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Stops the loop after the tasks queued so far; `waitForExit` blocks until it has.
    public func stop() {
        enqueue { [unowned self] in self.running = false }
    }

    /// Blocks until the loop has stopped and, if `start` made its thread, until that thread has
    /// ended: its thread-local destructors (OpenSSL's per-thread state among them) have run, so the
    /// process may exit right after. Idempotent; from any thread but the loop's own.
    public func waitForExit() {
        _ = exitLatch.wait()
        joinLock.lock(); defer { joinLock.unlock() }
        guard let t = thread, pthread_equal(t, pthread_self()) == 0 else { return }
        pthread_join(t, nil)
        thread = nil
    }

    // MARK: Registration (loop thread only)

    func register(fd: Int32, _ handler: EventLoopSelectable, writable: Bool = false) -> UInt64 {
        let token = nextToken; nextToken += 1
        registrations[token] = handler
        let ev = PT_EPOLLIN | PT_EPOLLRDHUP | (writable ? PT_EPOLLOUT : 0)
        _ = pt_epoll_ctl(epfd, PT_EPOLL_CTL_ADD, fd, ev, token)
        return token
    }

    func modify(fd: Int32, token: UInt64, readable: Bool, writable: Bool) {
        let ev = (readable ? PT_EPOLLIN | PT_EPOLLRDHUP : 0) | (writable ? PT_EPOLLOUT : 0)
        _ = pt_epoll_ctl(epfd, PT_EPOLL_CTL_MOD, fd, ev, token)
    }

    func deregister(fd: Int32, token: UInt64) {
        _ = pt_epoll_ctl(epfd, PT_EPOLL_CTL_DEL, fd, 0, 0)
        registrations[token] = nil
    }

    func markDirty(_ f: EventLoopFlushable) { dirty.append(f) }

    // MARK: Timers (loop thread only)

    /// Calls `callback` on the loop after `nanos` nanoseconds unless cancelled first.
    @discardableResult
    public func scheduleTimer(afterNanos nanos: UInt64, _ callback: @escaping () -> Void) -> EventLoopTimer {
        let id = nextTimerID; nextTimerID += 1
        timerCallbacks[id] = callback
        heapPush((monotonicNanos() &+ nanos, id))
        return EventLoopTimer(id: id)
    }

    public func cancelTimer(_ t: EventLoopTimer) { timerCallbacks[t.id] = nil }

    private func heapPush(_ e: (deadline: UInt64, id: UInt64)) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if heap[p].deadline <= heap[i].deadline { break }
            heap.swapAt(p, i); i = p
        }
    }

    private func heapPop() {
        let last = heap.removeLast()
        if heap.isEmpty { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].deadline < heap[m].deadline { m = l }
            if r < heap.count && heap[r].deadline < heap[m].deadline { m = r }
            if m == i { break }
            heap.swapAt(m, i); i = m
        }
    }

    private func runTimers() -> Int32 {
        while let top = heap.first {
            if timerCallbacks[top.id] == nil { heapPop(); continue }
            let now = monotonicNanos()
            if top.deadline > now {
                let ms = (top.deadline - now + 999_999) / 1_000_000
                return Int32(min(ms, 60_000))
            }
            heapPop()
            if let cb = timerCallbacks.removeValue(forKey: top.id) { cb() }
        }
        return -1
    }

    // MARK: Run loop

    private func run() {
        threadID = pthread_self()
        let datas = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
        defer { datas.deallocate(); events.deallocate() }
        var tasks: [LoopWork] = []
        while running {
            var timeout = runTimers()
            let timersBefore = nextTimerID
            flushDirty()
            // A flush may arm a timer (e.g. a timer's work, flushed just now, re-arms it): then wait
            // no longer than the earliest one (firing any already due).
            if nextTimerID != timersBefore && dirty.isEmpty { timeout = runTimers() }
            if !dirty.isEmpty { timeout = 0 }
            // With idle work waiting, wake when the loop will have been quiet long enough.
            else if !idleWork.isEmpty { timeout = idleWait(timeout) }
            let n = pt_epoll_wait(epfd, datas, events, 256, timeout)
            if n > 0 {
                for i in 0..<Int(n) {
                    let token = datas[i]
                    if token == 0 {
                        var v: UInt64 = 0
                        _ = Glibc.read(wakeFD, &v, 8)
                        continue
                    }
                    guard let h = registrations[token] else { continue }
                    let e = events[i]
                    h.handleEvents(readable: e & (PT_EPOLLIN | PT_EPOLLRDHUP) != 0,
                                   writable: e & PT_EPOLLOUT != 0,
                                   hangup: e & (PT_EPOLLHUP | PT_EPOLLERR) != 0)
                }
            }
            queueLock.lock()
            swap(&tasks, &queue)
            wakePending = false
            queueLock.unlock()
            let busy = n > 0 || !tasks.isEmpty
            for t in tasks { t.run() }
            tasks.removeAll(keepingCapacity: true)
            flushDirty()
            if !idleWork.isEmpty {
                let now = monotonicNanos()
                if busy { lastBusy = now }
                if now &- lastBusy >= idleQuietNanos || now &- idleSince >= idleWorkMaxDelayNanos {
                    runIdleWork()
                }
            }
        }
        if !idleWork.isEmpty { runIdleWork() }
        // Drop everything still registered (the loop is going away).
        registrations.removeAll()
        timerCallbacks.removeAll()
        exitLatch.fulfil(true)
    }

    private func flushDirty() {
        var guardCount = 0
        while !dirty.isEmpty && guardCount < 4 {
            let d = dirty
            dirty.removeAll(keepingCapacity: true)
            for f in d { f.flushPending() }
            guardCount += 1
        }
    }
}

/// A fixed set of event loops, one per core by default.
public final class EventLoopGroup: @unchecked Sendable {
    public let loops: [EventLoop]
    private let counterLock = Lock()
    private var counter = 0

    /// Creates and starts `count` loops (default: the number of online CPUs in our affinity mask).
    public init(loopCount: Int? = nil) {
        let n = max(1, loopCount ?? EventLoopGroup.availableCores())
        loops = (0..<n).map { EventLoop(index: $0) }
        loops.forEach { $0.start() }
    }

    /// Wraps existing loops (not started here; e.g. one adopted loop for socketless tests).
    public init(loops: [EventLoop]) {
        precondition(!loops.isEmpty)
        self.loops = loops
    }

    /// CPUs this process may run on (honours taskset, unlike sysconf).
    public static func availableCores() -> Int {
        let n = Int(pt_affinity_cpu_count())
        if n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Round-robin choice of a loop.
    public func next() -> EventLoop {
        counterLock.lock(); defer { counterLock.unlock() }
        counter &+= 1
        return loops[counter % loops.count]
    }

    /// Stops all loops and waits for their threads to exit.
    public func shutdown() {
        loops.forEach { $0.stop() }
        loops.forEach { $0.waitForExit() }
    }
}
