/// gRPC length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian length, payload.
public enum MessageFraming {
    /// Frames `payload` (uncompressed).
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(payload.count + 5)
        appendPrefix(to: &out, length: payload.count)
        out.append(contentsOf: payload)
        return out
    }

    @inline(__always) public static func appendPrefix(to out: inout [UInt8], length: Int) {
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: length >> 24)); out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8)); out.append(UInt8(truncatingIfNeeded: length))
    }
}

/// Reassembles length-prefixed messages from DATA chunks of any size (a message may span chunks, a
/// chunk may hold several). Bounded: a declared length above `maxMessageSize` is an error before any
/// of it is buffered.
public struct MessageDeframer {
    public enum Failure: Error, Equatable {
        /// Declared length over the limit (→ RESOURCE_EXHAUSTED).
        case tooLarge(Int)
        /// Compressed flag set (→ caller decides: INTERNAL without grpc-encoding).
        case compressed
        /// Flag byte other than 0 or 1.
        case badFlag(UInt8)
    }

    public let maxMessageSize: Int
    private var header: [UInt8] = []
    private var body: [UInt8] = []
    private var expected = -1   // -1 = reading the 5-byte header
    public private(set) var messagesSeen = 0

    public init(maxMessageSize: Int) { self.maxMessageSize = maxMessageSize }

    /// True when no partial message is buffered.
    public var isEmpty: Bool { header.isEmpty && expected < 0 }

    /// Consumes `chunk`, calling `onMessage` for each complete message.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer, _ onMessage: ([UInt8]) -> Void) throws(Failure) {
        try consumeBorrowing(chunk) { onMessage([UInt8]($0)) }
    }

    /// As `consume`, lending each message instead of copying it: `onMessage` gets the message's
    /// bytes, valid only during the call (inside `chunk` when the whole message is there, else in
    /// this deframer's buffer).
    public mutating func consumeBorrowing(_ chunk: UnsafeRawBufferPointer,
                                          _ onMessage: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        var p = chunk.startIndex
        let end = chunk.endIndex
        while p < end {
            if expected < 0 {
                // Fast path: whole header available and nothing pending.
                if header.isEmpty && end - p >= 5 {
                    try startMessage(flag: chunk[p], b0: chunk[p + 1], b1: chunk[p + 2], b2: chunk[p + 3], b3: chunk[p + 4])
                    p += 5
                } else {
                    header.append(chunk[p]); p += 1
                    if header.count == 5 {
                        let h = header; header.removeAll()
                        try startMessage(flag: h[0], b0: h[1], b1: h[2], b2: h[3], b3: h[4])
                    }
                }
                if expected == 0 { finishMessage(onMessage) }
                continue
            }
            let need = expected - body.count
            let take = min(need, end - p)
            if body.isEmpty && take == expected {
                // Whole message in this chunk: lent in place.
                let msg = UnsafeRawBufferPointer(rebasing: chunk[p..<(p + take)])
                p += take
                expected = -1; messagesSeen += 1
                onMessage(msg)
                continue
            }
            // A message split across chunks: reserve once (a whole-chunk message never gets here
            // and so costs no buffer at all).
            if body.isEmpty { body.reserveCapacity(min(expected, 1 << 20)) }
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[p..<(p + take)]).assumingMemoryBound(to: UInt8.self))
            p += take
            if body.count == expected { finishMessage(onMessage) }
        }
    }

    private mutating func startMessage(flag: UInt8, b0: UInt8, b1: UInt8, b2: UInt8, b3: UInt8) throws(Failure) {
        if flag == 1 { throw .compressed }
        if flag != 0 { throw .badFlag(flag) }
        let len = Int(b0) << 24 | Int(b1) << 16 | Int(b2) << 8 | Int(b3)
        if len > maxMessageSize { throw .tooLarge(len) }
        expected = len
    }

    private mutating func finishMessage(_ onMessage: (UnsafeRawBufferPointer) -> Void) {
        let m = body
        body = []
        expected = -1; messagesSeen += 1
        m.withUnsafeBytes { onMessage($0) }
    }
}
