/// The RFC 9113 checks of inbound frames that nghttp2 leaves out in the server's configuration:
///
/// - PRIORITY frames. With RFC 7540 priorities off (`SETTINGS_NO_RFC7540_PRIORITIES`, which the
///   server sends) nghttp2 discards their payload unread, but RFC 9113 §6.3 still makes one on
///   stream 0 a connection error of type PROTOCOL_ERROR, and §5.3.1 says a stream cannot depend
///   on itself (a stream error of type PROTOCOL_ERROR, which an endpoint may treat as a
///   connection error: done here, as nghttp2 does for a HEADERS frame that depends on itself).
/// - HEADERS on a stream identifier the client skipped (RFC 9113 §5.1.1: opening stream 5 closes
///   idle streams 1 and 3; a HEADERS frame on them is an unexpected stream identifier, a connection
///   error of type PROTOCOL_ERROR). nghttp2 ignores any HEADERS below the highest stream seen,
///   since with closed streams not retained it cannot tell them from trailers racing a
///   RST_STREAM; the audit remembers the skipped ranges (at most `maximumGaps`, the oldest
///   forgotten first: never a false error, at worst nghttp2's leniency). Clients that number
///   streams consecutively, as gRPC's do, leave no gap and cost nothing.
///
/// Pure: fed the server's inbound plaintext in order (client preface first), it follows frame
/// boundaries across chunks, reading only frame headers and the first 4 octets of PRIORITY
/// payloads; O(1) work per frame, at most 9 bytes kept between chunks.
struct HTTP2InboundFrameAudit {
    enum State {
        /// Octets of the 24-octet client connection preface still to skip.
        case preface(remaining: Int)
        /// Collecting a 9-octet frame header (`have` octets so far in `header`).
        case header(have: Int)
        /// Inside a payload: `remaining` octets to skip; for a PRIORITY frame, its stream and
        /// the dependency octets collected so far.
        case payload(remaining: Int, priorityStream: UInt32?, have: Int)
    }

    enum Action: Equatable {
        case proceed
        /// A connection error: process the first `offset` octets of the chunk, then GOAWAY.
        case connectionError(offset: Int, code: UInt32, reason: String)
    }

    static let protocolError: UInt32 = 0x1
    private(set) var state: State = .preface(remaining: 24)
    /// The frame header fields read so far (length: octets 0-2, type: 3, stream: 5-8).
    private var length = 0
    private var type: UInt8 = 0
    private var stream: UInt32 = 0
    private var dependency: UInt32 = 0
    /// The highest client stream identifier a HEADERS frame used, and the ranges it skipped.
    private var highestStream: UInt32 = 0
    private var gaps: [ClosedRange<UInt32>] = []
    static let maximumGaps = 8

    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Action {
        var i = 0
        // Where the frame being read began in this chunk (0 for one begun in an earlier chunk).
        var frameStart = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .preface(let remaining):
                let take = min(remaining, n - i)
                i += take
                state = remaining - take == 0 ? .header(have: 0) : .preface(remaining: remaining - take)
            case .header(0) where n - i >= 9:
                // The whole frame header is in this chunk (the usual case): read it at once.
                frameStart = i
                length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
                type = bytes[i + 3]
                stream = UInt32(bytes[i + 5]) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8 | UInt32(bytes[i + 8])
                i += 9
                if let error = headerComplete(frameStart: frameStart) { return error }
            case .header(let have):
                let b = bytes[i]
                switch have {
                case 0: frameStart = i; length = Int(b); stream = 0
                case 1, 2: length = length << 8 | Int(b)
                case 3: type = b
                case 4: break  // flags
                default: stream = stream << 8 | UInt32(b)
                }
                i += 1
                if have < 8 {
                    state = .header(have: have + 1)
                } else if let error = headerComplete(frameStart: frameStart) {
                    return error
                }
            case .payload(let remaining, let priorityStream, let have):
                guard let audited = priorityStream, have < 4 else {
                    let take = min(remaining, n - i)
                    i += take
                    state = remaining - take == 0 ? .header(have: 0) : .payload(remaining: remaining - take, priorityStream: priorityStream, have: have)
                    continue
                }
                dependency = dependency << 8 | UInt32(bytes[i])
                i += 1
                if have == 3 && dependency & 0x7FFF_FFFF == audited {
                    return .connectionError(offset: frameStart, code: Self.protocolError, reason: "PRIORITY: depend on itself")
                }
                state = .payload(remaining: remaining - 1, priorityStream: audited, have: have + 1)
            }
        }
        return .proceed
    }

    /// Judges a frame whose 9-octet header has just been read, and sets the state for its payload.
    private mutating func headerComplete(frameStart: Int) -> Action? {
        stream &= 0x7FFF_FFFF
        if type == 0x1 && stream & 1 == 1 {
            if stream > highestStream {
                if stream > highestStream &+ 2 {
                    if gaps.count == Self.maximumGaps { gaps.removeFirst() }
                    gaps.append((highestStream == 0 ? 1 : highestStream + 2)...(stream - 2))
                }
                highestStream = stream
            } else if !gaps.isEmpty && gaps.contains(where: { $0.contains(stream) }) {
                return .connectionError(offset: frameStart, code: Self.protocolError, reason: "HEADERS: stream id of a skipped (closed) stream")
            }
        }
        let isPriority = type == 0x2
        if isPriority && stream == 0 {
            return .connectionError(offset: frameStart, code: Self.protocolError, reason: "PRIORITY: stream_id == 0")
        }
        // A PRIORITY frame of another length is nghttp2's FRAME_SIZE_ERROR; not ours to read.
        let audited = isPriority && length == 5 ? stream : nil
        dependency = 0
        state = length == 0 ? .header(have: 0) : .payload(remaining: length, priorityStream: audited, have: 0)
        return nil
    }
}
