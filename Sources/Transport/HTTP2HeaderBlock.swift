import CNghttp2

/// An immutable, pre-encoded list of HTTP/2 header fields ready for nghttp2 (`nghttp2_nv` array plus
/// the bytes it points to, in one allocation). Names must be lowercase.
///
/// A block made with `isStatic: true` must outlive every frame submitted with it (a `static let`,
/// or a block held by the owner of the session that sends it); nghttp2 then references its bytes
/// without copying. Other blocks are copied by nghttp2 at submit.
public final class HTTP2HeaderBlock: @unchecked Sendable {
    let nva: UnsafeMutablePointer<nghttp2_nv>
    let count: Int
    private let storage: UnsafeMutableRawPointer

    public convenience init(_ fields: [(name: String, value: String)], isStatic: Bool = false) {
        self.init(bytes: fields.map { (Array($0.name.utf8), Array($0.value.utf8)) }, isStatic: isStatic)
    }

    public init(bytes fields: [(name: [UInt8], value: [UInt8])], isStatic: Bool = false) {
        count = fields.count
        nva = .allocate(capacity: max(1, fields.count))
        let total = fields.reduce(0) { $0 + $1.name.count + $1.value.count } + 1
        storage = .allocate(byteCount: total, alignment: 1)
        var off = 0
        let flags = UInt8(isStatic ? (NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue)
                                   : NGHTTP2_NV_FLAG_NONE.rawValue)
        for (i, f) in fields.enumerated() {
            let np = storage.advanced(by: off).assumingMemoryBound(to: UInt8.self)
            f.name.withUnsafeBytes { if $0.count > 0 { np.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: $0.count) } }
            off += f.name.count
            let vp = storage.advanced(by: off).assumingMemoryBound(to: UInt8.self)
            f.value.withUnsafeBytes { if $0.count > 0 { vp.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: $0.count) } }
            off += f.value.count
            (nva + i).initialize(to: nghttp2_nv(name: np, value: vp, namelen: f.name.count, valuelen: f.value.count, flags: flags))
        }
    }

    deinit { nva.deallocate(); storage.deallocate() }
}
