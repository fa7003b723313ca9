import CWslay
import Glibc

/// libwslay's frame writer (`wslay_frame_send`) for the frames a server sends: fin set, no RSV bits,
/// unmasked, the length in its minimal encoding.
///
/// One frame context per thread, made with the thread's first frame and kept for reuse (released
/// when the thread ends): a context made and freed per frame cost ≈ 4,650 more instructions per
/// frame (its ≈ 4.2 KB allocated, zeroed and freed) than one reused: Benchmarks/rest/RESULTS.md,
/// "wslay frame context for server frames". A context is never used by two threads, and each frame
/// is written whole before `write` returns (the `send_callback` always takes every byte), so the
/// context stands between frames after every call.
final class WslayFrameSender {
    private var context: wslay_frame_context_ptr?
    /// Where `send_callback` appends: set only during `write`.
    private var destination: UnsafeMutablePointer<[UInt8]>?

    /// Nil when wslay cannot allocate its context.
    private init?() {
        var callbacks = wslay_frame_callbacks(
            send_callback: { data, length, _, user in
                let me = Unmanaged<WslayFrameSender>.fromOpaque(user!).takeUnretainedValue()
                me.destination!.pointee.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
                return length
            },
            recv_callback: nil, genmask_callback: nil)
        var created: wslay_frame_context_ptr?
        guard wslay_frame_context_init(&created, &callbacks, Unmanaged.passUnretained(self).toOpaque()) == 0,
              let created else { return nil }
        context = created
    }

    deinit { wslay_frame_context_free(context) }

    /// Close 1000 without a reason (every stream's end), written by this thread's context once.
    /// Per thread, not one for the process: a fan-out that ends thousands of WebSockets on each
    /// event loop at once queues this array on every one of them, and one array shared by the
    /// loops would have its reference count bounce between their cores (the payment fan-out
    /// copies a message per loop for the same reason).
    private(set) lazy var normalClosure: [UInt8] = {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        let code: [UInt8] = [0x03, 0xe8]
        let sent = code.withUnsafeBytes { write(opcode: 8, payload: $0, to: &out) }
        precondition(sent == 2, "wslay_frame_send: \(sent)")
        return out
    }()

    /// The calling thread's sender (nil only when wslay cannot allocate its context).
    static var current: WslayFrameSender? {
        if let kept = pthread_getspecific(threadKey) {
            return Unmanaged<WslayFrameSender>.fromOpaque(kept).takeUnretainedValue()
        }
        guard let made = WslayFrameSender() else { return nil }
        pthread_setspecific(threadKey, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    /// The thread-specific slot; its destructor releases the thread's sender when the thread ends.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { kept in
            if let kept { Unmanaged<WslayFrameSender>.fromOpaque(kept).release() }
        }
        return key
    }()

    /// Appends the frame (header + `payload`) with `opcode` to `out`. Returns wslay's result: the
    /// payload's length, or a negative `wslay_error` (`WSLAY_ERR_INVALID_ARGUMENT` for a control
    /// frame over 125 bytes).
    func write(opcode: UInt8, payload: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Int {
        var iocb = wslay_frame_iocb(fin: 1, rsv: 0, opcode: opcode, payload_length: UInt64(payload.count), mask: 0,
                                    data: payload.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                    data_length: payload.count)
        return withUnsafeMutablePointer(to: &out) { sink in
            destination = sink
            defer { destination = nil }
            return wslay_frame_send(context, &iocb)
        }
    }
}
