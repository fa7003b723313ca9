import Glibc
import COpenSSL   // its shim includes <malloc.h> (malloc_trim)
import Synchronization

/// Gives memory freed in bulk back to the kernel: each connection that moves to the compact TLS
/// record layer frees its OpenSSL objects (≈ 30 KB), but glibc keeps freed chunks resident when
/// they sit between live allocations (the long-lived objects of the connections accepted around
/// them), so RSS would keep most of it. Once at least `threshold` bytes were released since the
/// last trim, one `malloc_trim(0)` (which also returns whole free pages inside the heap, with
/// `MADV_DONTNEED`) runs `delayNanos` later on the releasing loop: at most one trim per delay
/// process-wide, and never more than `threshold` bytes of such holes left untrimmed.
enum HeapTrim {
    static let threshold = 1 << 20
    static let delayNanos: UInt64 = 100_000_000
    private static let pending = Atomic<Int>(0)
    private static let scheduled = Atomic<Bool>(false)

    /// `bytes` were freed on `loop`'s thread.
    static func released(_ bytes: Int, on loop: EventLoop) {
        guard pending.add(bytes, ordering: .relaxed).newValue >= threshold,
              scheduled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        loop.scheduleTimer(afterNanos: delayNanos) {
            pending.store(0, ordering: .relaxed)
            _ = malloc_trim(0)
            scheduled.store(false, ordering: .relaxed)
        }
    }
}
