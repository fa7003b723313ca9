import Payments

/// The compact binary encoding of routes, failures and custom-record maps stored as blobs.
///
/// Format: a leading version byte (1), then fields in a fixed order; integers are unsigned LEB128
/// varints (signed ones zig-zag), byte strings are varint-length-prefixed, optionals have a
/// presence byte, maps are a count then (key, value) pairs sorted by key. Decoding outside bytes
/// (a corrupted file) fails with a typed error, never a crash.
enum PaymentCodec {
    static let version: UInt8 = 1

    struct DecodeError: Error, CustomStringConvertible {
        let what: String
        var description: String { "corrupt payment record: \(what)" }
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func u8(_ v: UInt8) { bytes.append(v) }
        mutating func uvar(_ v: UInt64) {
            var v = v
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }
        mutating func svar(_ v: Int64) { uvar(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
        mutating func blob(_ b: [UInt8]) {
            uvar(UInt64(b.count))
            bytes.append(contentsOf: b)
        }
        mutating func bool(_ b: Bool) { u8(b ? 1 : 0) }
        mutating func records(_ m: [UInt64: [UInt8]]) {
            uvar(UInt64(m.count))
            for k in m.keys.sorted() {
                uvar(k)
                blob(m[k]!)
            }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var pos = 0
        init(_ b: [UInt8]) { bytes = b }

        mutating func u8() throws(DecodeError) -> UInt8 {
            guard pos < bytes.count else { throw DecodeError(what: "truncated") }
            pos += 1
            return bytes[pos - 1]
        }
        mutating func uvar() throws(DecodeError) -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try u8()
                if shift == 63 && b > 1 { throw DecodeError(what: "varint overflow") }
                v |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return v }
                shift += 7
                if shift > 63 { throw DecodeError(what: "varint overflow") }
            }
        }
        mutating func svar() throws(DecodeError) -> Int64 {
            let u = try uvar()
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }
        mutating func u32() throws(DecodeError) -> UInt32 {
            let v = try uvar()
            guard v <= UInt64(UInt32.max) else { throw DecodeError(what: "u32 out of range") }
            return UInt32(v)
        }
        mutating func blob() throws(DecodeError) -> [UInt8] {
            let n = try uvar()
            guard n <= UInt64(bytes.count - pos) else { throw DecodeError(what: "length beyond end") }
            let out = Array(bytes[pos..<pos + Int(n)])
            pos += Int(n)
            return out
        }
        mutating func bool() throws(DecodeError) -> Bool { try u8() != 0 }
        mutating func records() throws(DecodeError) -> [UInt64: [UInt8]] {
            let n = try uvar()
            guard n <= UInt64(bytes.count - pos) else { throw DecodeError(what: "record count beyond end") }
            var m: [UInt64: [UInt8]] = [:]
            for _ in 0..<n { m[try uvar()] = try blob() }
            return m
        }
        mutating func version() throws(DecodeError) {
            let v = try u8()
            guard v == PaymentCodec.version else { throw DecodeError(what: "unknown encoding version \(v)") }
        }
    }

    // MARK: Route

    static func encode(_ r: Route) -> [UInt8] {
        var w = Writer()
        w.u8(version)
        w.uvar(UInt64(r.totalTimeLock))
        w.svar(r.totalAmtMsat)
        w.blob(r.sourcePubKey)
        w.svar(r.firstHopAmountMsat)
        w.records(r.firstHopWireCustomRecords)
        w.blob(r.customChannelData)
        w.uvar(UInt64(r.hops.count))
        for h in r.hops {
            w.uvar(h.chanID)
            w.blob(h.pubKey)
            w.svar(h.amtToForwardMsat)
            w.svar(h.feeMsat)
            w.uvar(UInt64(h.expiry))
            w.bool(h.legacyPayload)
            if let m = h.mppRecord {
                w.u8(1)
                w.blob(m.paymentAddr)
                w.svar(m.totalAmtMsat)
            } else { w.u8(0) }
            if let a = h.ampRecord {
                w.u8(1)
                w.blob(a.rootShare)
                w.blob(a.setID)
                w.uvar(UInt64(a.childIndex))
            } else { w.u8(0) }
            w.records(h.customRecords)
            w.blob(h.metadata)
            w.blob(h.blindingPoint)
            w.blob(h.encryptedData)
            w.uvar(h.totalAmtMsat)
        }
        return w.bytes
    }

    static func decodeRoute(_ bytes: [UInt8]) throws(DecodeError) -> Route {
        var r = Reader(bytes)
        try r.version()
        let lock = try r.u32()
        let amt = try r.svar()
        let source = try r.blob()
        let firstHop = try r.svar()
        let firstRecords = try r.records()
        let channelData = try r.blob()
        let n = try r.uvar()
        guard n <= UInt64(bytes.count) else { throw DecodeError(what: "hop count") }
        var hops: [Hop] = []
        hops.reserveCapacity(Int(n))
        for _ in 0..<n {
            let chan = try r.uvar()
            let pub = try r.blob()
            let fwd = try r.svar()
            let fee = try r.svar()
            let expiry = try r.u32()
            let legacy = try r.bool()
            var mpp: MPPRecord?
            if try r.bool() { mpp = MPPRecord(paymentAddr: try r.blob(), totalAmtMsat: try r.svar()) }
            var amp: AMPRecord?
            if try r.bool() { amp = AMPRecord(rootShare: try r.blob(), setID: try r.blob(), childIndex: try r.u32()) }
            let custom = try r.records()
            let meta = try r.blob()
            let blinding = try r.blob()
            let encrypted = try r.blob()
            let total = try r.uvar()
            hops.append(Hop(chanID: chan, pubKey: pub, amtToForwardMsat: fwd, feeMsat: fee, expiry: expiry,
                            legacyPayload: legacy, mppRecord: mpp, ampRecord: amp, customRecords: custom, metadata: meta,
                            blindingPoint: blinding, encryptedData: encrypted, totalAmtMsat: total))
        }
        guard r.pos == bytes.count else { throw DecodeError(what: "trailing bytes in route") }
        return Route(totalTimeLock: lock, totalAmtMsat: amt, sourcePubKey: source, hops: hops, firstHopAmountMsat: firstHop,
                     firstHopWireCustomRecords: firstRecords, customChannelData: channelData)
    }

    // MARK: Failure

    static func encode(_ f: HTLCFailInfo) -> [UInt8] {
        var w = Writer()
        w.u8(version)
        w.u8(f.reason.rawValue)
        w.uvar(UInt64(f.failureSourceIndex))
        if let m = f.message {
            w.u8(1)
            w.svar(Int64(m.code.rawValue))
            if let u = m.channelUpdate {
                w.u8(1)
                w.blob(u.signature)
                w.blob(u.chainHash)
                w.uvar(u.chanID)
                w.uvar(UInt64(u.timestamp))
                w.uvar(UInt64(u.messageFlags))
                w.uvar(UInt64(u.channelFlags))
                w.uvar(UInt64(u.timeLockDelta))
                w.uvar(u.htlcMinimumMsat)
                w.uvar(UInt64(u.baseFee))
                w.uvar(UInt64(u.feeRate))
                w.uvar(u.htlcMaximumMsat)
                w.blob(u.extraOpaqueData)
            } else { w.u8(0) }
            w.uvar(m.htlcMsat)
            w.blob(m.onionSha256)
            w.uvar(UInt64(m.cltvExpiry))
            w.uvar(UInt64(m.flags))
            w.uvar(UInt64(m.height))
        } else { w.u8(0) }
        return w.bytes
    }

    static func decodeFailure(_ bytes: [UInt8], failTimeNs: Int64) throws(DecodeError) -> HTLCFailInfo {
        var r = Reader(bytes)
        try r.version()
        guard let reason = HTLCFailReason(rawValue: try r.u8()) else { throw DecodeError(what: "fail reason") }
        let source = try r.u32()
        var message: StoredFailureMessage?
        if try r.bool() {
            let raw = try r.svar()
            guard let code = FailureCode(rawValue: Int32(truncatingIfNeeded: raw)) else { throw DecodeError(what: "failure code \(raw)") }
            var update: StoredChannelUpdate?
            if try r.bool() {
                update = StoredChannelUpdate(signature: try r.blob(), chainHash: try r.blob(), chanID: try r.uvar(),
                                       timestamp: try r.u32(), messageFlags: try r.u32(), channelFlags: try r.u32(),
                                       timeLockDelta: try r.u32(), htlcMinimumMsat: try r.uvar(), baseFee: try r.u32(),
                                       feeRate: try r.u32(), htlcMaximumMsat: try r.uvar(), extraOpaqueData: try r.blob())
            }
            message = StoredFailureMessage(code: code, channelUpdate: update, htlcMsat: try r.uvar(), onionSha256: try r.blob(),
                                     cltvExpiry: try r.u32(), flags: try r.u32(), height: try r.u32())
        }
        guard r.pos == bytes.count else { throw DecodeError(what: "trailing bytes in failure") }
        return HTLCFailInfo(failTimeNs: failTimeNs, reason: reason, message: message, failureSourceIndex: source)
    }

    // MARK: Records

    static func encode(_ m: [UInt64: [UInt8]]) -> [UInt8] {
        var w = Writer()
        w.u8(version)
        w.records(m)
        return w.bytes
    }

    static func decodeRecords(_ bytes: [UInt8]) throws(DecodeError) -> [UInt64: [UInt8]] {
        var r = Reader(bytes)
        try r.version()
        let m = try r.records()
        guard r.pos == bytes.count else { throw DecodeError(what: "trailing bytes in records") }
        return m
    }
}
