import LightningRPC
import ProtoWire

/// Decodes the input as every message type in Protos/. Whatever decodes must re-encode to bytes
/// that decode to an equal message and re-encode to the same bytes (encoding is canonical and
/// lossless, unknown fields included). Malformed input must only ever throw ProtoDecodingError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    for type in LightningDescriptors.messageTypes {
        roundTrip(type, buffer)
    }
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
