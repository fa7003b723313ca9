import Synchronization

/// One response message, encoded once and shared by every stream it is sent on (one snapshot
/// version fanned out to thousands of TrackPaymentV2 subscribers, or a finished payment's cached
/// answer), whatever face those streams answer on.
///
/// Contract: immutable. `framed` holds the serialized protobuf message behind gRPC's 5-byte
/// length prefix, the layout the gRPC face queues by reference without copying; other faces read
/// `payload` and keep their own form of the message in `alternate`, computed once by the first
/// stream of that face that needs it (the REST gateway's `{"result":...}` JSON line) and read
/// lock-free by the rest. A form stored there must be derived from the payload alone.
public final class EncodedMessage: Sendable {
    /// Prefix (compressed flag 0, big-endian length) + the serialized message.
    public let framed: [UInt8]
    /// Another face's encoding of the same message (see the type's contract).
    public let alternate = AtomicLazyReference<any AnyObject & Sendable>()

    /// Encodes `message` (one copy, into the framed layout).
    public init(message: [UInt8]) {
        var out = [UInt8]()
        out.reserveCapacity(message.count + 5)
        let n = message.count
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: n >> 24)); out.append(UInt8(truncatingIfNeeded: n >> 16))
        out.append(UInt8(truncatingIfNeeded: n >> 8)); out.append(UInt8(truncatingIfNeeded: n))
        out.append(contentsOf: message)
        framed = out
    }

    private init(framed: [UInt8]) { self.framed = framed }

    /// The same message in a buffer of its own (no `alternate`). Queueing a message on a stream
    /// retains its buffer: a message fanned out from several event loops at once is best copied
    /// per loop, so each loop's reference counting stays in its own core's cache.
    public func ownCopy() -> EncodedMessage {
        EncodedMessage(framed: framed.withUnsafeBufferPointer { Array($0) })
    }

    /// The serialized message's length.
    public var messageCount: Int { framed.count - 5 }

    /// The serialized message (without the prefix).
    public var payload: ArraySlice<UInt8> { framed[5...] }
}
