import CWslay

/// libwslay's frame decoder (`wslay_frame_recv`) over the bytes of one `WebSocketFrameParser.parse`
/// call: wslay decodes each frame's header (opcode, fin, RSV, mask bit, the 7/16/64-bit length in its
/// minimal encoding) and unmasks the payload; the RFC 6455 rules above the framing are the parser's.
///
/// Contract:
/// - One instance owns one `wslay_frame_context` (≈ 4.2 KB: its 4,096-byte input buffer) from `init`
///   to `deinit`; the parser keeps an instance only while a frame is partly received, so an idle
///   WebSocket holds none. A final class: copies of the owning struct share it, the context is freed
///   once.
/// - `recv_callback` hands wslay bytes straight from the buffer given to `receive(_:)`, as many as
///   wslay asks for; when they are exhausted it answers -1 and wslay returns `WSLAY_ERR_WANT_READ`.
///   No byte is copied anywhere but into wslay's own buffer.
/// - `atFrameBoundary` is true when every byte handed to wslay belongs to a frame that was completely
///   reported: header (2 bytes, + 2 or 8 by the minimal length encoding, + 4 for the mask key) plus
///   payload. Counted here, never read from wslay's private struct.
/// Confined to the parser's (the connection's) thread.
final class WslayFrameReceiver {
    /// The frame header wslay decoded, as its `wslay_frame_iocb` gives it.
    struct Header {
        var fin: Bool
        var rsv: UInt8
        var opcode: UInt8
        var masked: Bool
        var payloadLength: UInt64
    }

    /// One result of `next()`.
    enum Piece {
        /// Payload bytes of a frame, unmasked (`data` lives in wslay's buffer: valid until the next
        /// call). `first`: the frame's first piece; `last`: its payload is complete (both for a
        /// 0-length frame, reported once with no data).
        case frame(Header, data: UnsafeRawBufferPointer, first: Bool, last: Bool)
        /// Every byte of the input was handed to wslay; more are needed.
        case needMore
        /// wslay's `WSLAY_ERR_PROTO` (or any other error it would give): a fragmented or over-125-byte control frame, a length not in its
        /// minimal encoding, or a 64-bit length with the top bit set.
        case protocolError
    }

    private var context: wslay_frame_context_ptr?
    /// The current call's input and how much of it was handed to wslay.
    private var input = UnsafeRawBufferPointer(start: nil, count: 0)
    private var inputOffset = 0
    /// Bytes handed to wslay in this instance's life, and those of the frames completely reported.
    private var handed: UInt64 = 0
    private var consumed: UInt64 = 0
    /// Payload bytes reported of the frame in progress (nil between frames).
    private var payloadSeen: UInt64?

    /// Nil when wslay cannot allocate its context.
    init?() {
        var callbacks = wslay_frame_callbacks(
            send_callback: nil,
            recv_callback: { buffer, length, _, user in
                let me = Unmanaged<WslayFrameReceiver>.fromOpaque(user!).takeUnretainedValue()
                return me.hand(into: buffer!, capacity: length)
            },
            genmask_callback: nil)
        var created: wslay_frame_context_ptr?
        guard wslay_frame_context_init(&created, &callbacks, Unmanaged.passUnretained(self).toOpaque()) == 0,
              let created else { return nil }
        context = created
    }

    deinit { wslay_frame_context_free(context) }

    /// True when wslay holds no byte of an unfinished frame.
    var atFrameBoundary: Bool { handed == consumed }

    /// Makes `bytes` the input `next()` hands to wslay; they must stay valid until `next()` answered
    /// `.needMore` or the instance is dropped.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        input = bytes; inputOffset = 0
    }

    /// The next piece decoded from what wslay holds and then from the input.
    func next() -> Piece {
        var iocb = wslay_frame_iocb()
        while true {
            let before = handed
            let r = wslay_frame_recv(context, &iocb)
            if r == Int(WSLAY_ERR_WANT_READ.rawValue) {
                // wslay asks once per step: go on while bytes are left and it took some.
                if inputOffset < input.count && handed != before { continue }
                input = UnsafeRawBufferPointer(start: nil, count: 0); inputOffset = 0
                return .needMore
            }
            if r < 0 { return .protocolError }   // WSLAY_ERR_PROTO (no other error is documented for recv)
            let header = Header(fin: iocb.fin != 0, rsv: iocb.rsv, opcode: iocb.opcode, masked: iocb.mask != 0,
                                payloadLength: iocb.payload_length)
            let first = payloadSeen == nil
            let seen = (payloadSeen ?? 0) + UInt64(iocb.data_length)
            let last = seen == iocb.payload_length
            if last {
                consumed += Self.headerBytes(header) + iocb.payload_length
                payloadSeen = nil
            } else {
                payloadSeen = seen
            }
            return .frame(header, data: UnsafeRawBufferPointer(start: iocb.data, count: iocb.data_length),
                          first: first, last: last)
        }
    }

    /// RFC 6455 §5.2 header size of a frame whose length wslay accepted (so in its minimal encoding).
    static func headerBytes(_ h: Header) -> UInt64 {
        let extended: UInt64 = h.payloadLength < 126 ? 0 : h.payloadLength <= 0xffff ? 2 : 8
        return 2 + extended + (h.masked ? 4 : 0)
    }

    /// `recv_callback`: copies up to `capacity` unread input bytes into wslay's buffer; -1 when none.
    private func hand(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        let n = min(capacity, input.count - inputOffset)
        guard n > 0, let base = input.baseAddress else { return -1 }
        buffer.update(from: (base + inputOffset).assumingMemoryBound(to: UInt8.self), count: n)
        inputOffset += n
        handed += UInt64(n)
        return n
    }
}
