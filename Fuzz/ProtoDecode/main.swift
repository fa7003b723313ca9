import LightningRPC
import ProtoWire

/// The first byte of the input picks one message type of Protos/ (its index in
/// `LightningDescriptors.messageTypes`, modulo their count); the rest is decoded as that type.
/// Whatever decodes must re-encode to bytes that decode to an equal message and re-encode to the
/// same bytes (encoding is canonical and lossless, unknown fields included). Malformed input must
/// only ever throw ProtoDecodingError. (One type per input rather than all 109: the fuzzer learns
/// the selector byte like any other, and each run costs one decode instead of 109.)
/// Seeds are an encoded message behind its type's index (e.g. 25 for lnrpc.Invoice).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let types = LightningDescriptors.messageTypes
    let buffer = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let type = types[Int(data[0]) % types.count]
    roundTrip(type, buffer)
    return 0
}

func roundTrip<M: ProtoMessage>(_: M.Type, _ buffer: UnsafeRawBufferPointer) {
    let first: M
    do {
        first = try M(buffer: buffer)
    } catch {
        precondition(error is ProtoDecodingError, "untyped decode error \(error)")
        return
    }
    let bytes = first.serializedBytes()
    let second: M
    do { second = try M(serializedBytes: bytes) } catch { preconditionFailure("\(M.protoMessageName): re-decode failed: \(error)") }
    // NaN doubles are not equal to themselves; compare the encodings then.
    if first == first { precondition(second == first, "\(M.protoMessageName): re-decoded message differs") }
    precondition(second.serializedBytes() == bytes, "\(M.protoMessageName): re-encoding is not stable")
    // Encoding into a reused writer gives the same bytes.
    var writer = ProtoWriter(capacity: 16)
    writer.writeRawBytes([1, 2, 3])
    writer.reset()
    second.encode(to: &writer)
    precondition(writer.bytes == bytes, "\(M.protoMessageName): reused writer differs")
}
