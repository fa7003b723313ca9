import Payments
@testable import PaymentStore

/// A NOTIFY payload as another replica's writer would send it (`PaymentChangeNotice`): the input
/// as the payload text, and as the bytes behind the hex. Invariants: nothing traps; malformed input
/// only ever throws `PaymentCodec.DecodeError`; whatever decodes re-encodes to bytes that decode
/// to the same snapshots and re-encode to themselves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check { try PaymentChangeNotice.parse(String(decoding: bytes, as: UTF8.self)).snapshots }
    check { try PaymentChangeNotice.decode(bytes) }
    return 0
}

func check(_ decode: () throws -> [Payments.PaymentSnapshot]) {
    let snapshots: [Payments.PaymentSnapshot]
    do { snapshots = try decode() } catch {
        precondition(error is PaymentCodec.DecodeError, "untyped decode error \(error)")
        return
    }
    let encoded = PaymentChangeNotice.encode(snapshots)
    let again: [Payments.PaymentSnapshot]
    do { again = try PaymentChangeNotice.decode(encoded) } catch { preconditionFailure("re-decode failed: \(error)") }
    precondition(again == snapshots, "re-decoded snapshots differ")
    precondition(PaymentChangeNotice.encode(again) == encoded, "re-encoding is not stable")
}
