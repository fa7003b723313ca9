import Glibc

/// Frees closed HTTP/2 streams, and everything only they still hold, on spare CPU.
///
/// When thousands of long-lived streams end together (a payment many watch settles), letting go
/// of their calls, buffers and closures is a few milliseconds of `free` on the loop, in the
/// middle of the burst whose last deliveries are still being sent, or read by a client on the
/// same cores. The loop instead does only its own bookkeeping (`HTTP2Session.releaseClosedStreams`)
/// and hands the streams here: one process-wide thread under `SCHED_IDLE`, which the kernel runs
/// only when a CPU would otherwise be idle.
///
/// Contract: a stream handed over is closed, is no longer known to its session or to nghttp2, and
/// its delegate has heard `streamReleased`; the reaper only drops the stream's `delegate` and
/// `context` and then the stream (nothing else touches those fields of a released stream).
/// Bounded: at most `limit` streams wait; beyond that `take` refuses and the loop frees inline,
/// so a machine with no idle CPU degrades to the former behaviour instead of queueing garbage.
public final class Reaper: @unchecked Sendable {
    /// The process-wide reaper (its thread starts with the first hand-over).
    public static let shared = Reaper(limit: 1 << 15)

    /// Most streams that may wait to be freed.
    public let limit: Int
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var batches: [[HTTP2Stream]] = []
    private var waiting = 0
    private var started = false
    private var freed = 0

    init(limit: Int) {
        self.limit = limit
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    /// Hands `streams` over to be freed on spare CPU. Returns false (and keeps nothing) when that
    /// would exceed `limit`: the caller then frees them itself.
    func take(_ streams: [HTTP2Stream]) -> Bool {
        pthread_mutex_lock(&mutex)
        guard waiting + streams.count <= limit else {
            pthread_mutex_unlock(&mutex)
            return false
        }
        if !started { started = start() }
        guard started else {
            pthread_mutex_unlock(&mutex)
            return false
        }
        batches.append(streams)
        waiting += streams.count
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
        return true
    }

    /// Streams handed over and not yet freed, and streams freed so far (diagnostics, tests).
    public var counts: (waiting: Int, freed: Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return (waiting, freed)
    }

    /// Drops what released streams hold, then the streams (the batch's last reference goes
    /// when the caller drops it). Returns how many there were.
    static func free(_ streams: [HTTP2Stream]) -> Int {
        for s in streams {
            s.context = nil
            s.delegate = nil
        }
        return streams.count
    }

    /// Linux's SCHED_IDLE policy (<linux/sched.h>; glibc declares it only under _GNU_SOURCE).
    static let schedIdle: Int32 = 5

    /// Called with the mutex held.
    private func start() -> Bool {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attr) }
        let rc = pthread_create(&tid, &attr, { arg in
            let reaper = Unmanaged<Reaper>.fromOpaque(arg!).takeRetainedValue()
            var param = sched_param()
            // SCHED_IDLE: below every nice level. If refused, it stays a normal thread.
            _ = pthread_setschedparam(pthread_self(), Reaper.schedIdle, &param)
            reaper.run()
            return nil
        }, box.toOpaque())
        if rc != 0 { box.release(); return false }
        return true
    }

    private func run() {
        while true {
            pthread_mutex_lock(&mutex)
            while batches.isEmpty { pthread_cond_wait(&cond, &mutex) }
            let batch = batches.removeFirst()
            pthread_mutex_unlock(&mutex)
            let n = Self.free(batch)          // outside the lock: loops hand over meanwhile
            pthread_mutex_lock(&mutex)
            waiting -= n
            freed += n
            pthread_mutex_unlock(&mutex)
        }
    }
}
