import ProtoWire

/// Walks arbitrary bytes as a message of unknown fields and re-encodes what it captured.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    var reader = ProtoReader(buffer: buffer)
    var unknown: [UInt8] = []
    do {
        while let tag = try reader.nextTag() { try reader.captureUnknown(tag, into: &unknown) }
        precondition(unknown.count == size, "captured bytes must equal the input")
    } catch {}
    return 0
}
