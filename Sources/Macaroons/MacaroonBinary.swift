/// Binary (de)serialization of macaroons: format v2 (libmacaroons `doc/format.txt`, go-macaroon
/// `marshal-v2.go`) and, for reading only so that LND's refusal text can be given, format v1.
///
/// v2 layout: `0x02`, then packets `varint(fieldType) varint(length) data`, `0x00` ends a
/// section. Header section `[location(1)] identifier(2) EOS`; per caveat
/// `[location(1)] identifier(2) [verificationId(4)] EOS`; then `EOS`; then `signature(6)`.
///
/// Contract: parsing never traps and never reads out of bounds; every malformed input yields
/// a ``MacaroonError`` with go-macaroon's text (`unmarshal v2: …`, `unmarshal v1: …`).
/// Unlike go-macaroon, bytes after the signature packet are refused
/// (`unmarshal v2: unexpected data after signature`) instead of silently ignored: LND sends
/// exactly one macaroon per metadata value, and accepting unauthenticated trailing bytes only
/// widens what an attacker can vary.
extension Macaroon {
    enum Field: UInt64 {
        case eos = 0, location = 1, identifier = 2, verificationID = 4, signature = 6
    }

    // MARK: Serialize

    /// The binary encoding in this macaroon's ``version`` format.
    public func serialized() -> [UInt8] {
        switch version {
        case .v2: return serializedV2()
        case .v1: return serializedV1()
        }
    }

    /// go-macaroon `appendBinaryV2`.
    public func serializedV2() -> [UInt8] {
        var out: [UInt8] = [2]
        out.reserveCapacity(identifier.count + signature.count + 64
                            + caveats.reduce(0) { $0 + $1.identifier.count + $1.verificationID.count + 8 })
        if !location.isEmpty { Self.appendPacket(&out, .location, location) }
        Self.appendPacket(&out, .identifier, identifier)
        out.append(0)
        for cav in caveats {
            if !cav.location.isEmpty { Self.appendPacket(&out, .location, cav.location) }
            Self.appendPacket(&out, .identifier, cav.identifier)
            if !cav.verificationID.isEmpty { Self.appendPacket(&out, .verificationID, cav.verificationID) }
            out.append(0)
        }
        out.append(0)
        Self.appendPacket(&out, .signature, signature)
        return out
    }

    /// go-macaroon `appendBinaryV1` (4 hex digits of packet length, `name value\n`). Only for
    /// tests and tooling: LND refuses v1 macaroons.
    public func serializedV1() -> [UInt8] {
        var out: [UInt8] = []
        func packet(_ name: String, _ data: [UInt8]) {
            let size = 4 + name.utf8.count + 1 + data.count + 1
            let hex = Array("0123456789abcdef".utf8)
            out += [hex[(size >> 12) & 0xf], hex[(size >> 8) & 0xf], hex[(size >> 4) & 0xf], hex[size & 0xf]]
            out += Array(name.utf8); out.append(0x20); out += data; out.append(0x0a)
        }
        packet("location", location)
        packet("identifier", identifier)
        for cav in caveats {
            packet("cid", cav.identifier)
            if cav.verificationID.isEmpty { continue }
            packet("vid", cav.verificationID)
            packet("cl", cav.location)
        }
        packet("signature", signature)
        return out
    }

    static func appendPacket(_ out: inout [UInt8], _ field: Field, _ data: [UInt8]) {
        appendVarint(&out, field.rawValue)
        appendVarint(&out, UInt64(data.count))
        out.append(contentsOf: data)
    }

    static func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    // MARK: Parse

    /// Parses one binary macaroon (v2, or v1 for a precise refusal later). The whole input must
    /// be the macaroon.
    public init(binary data: [UInt8]) throws(MacaroonError) {
        guard let first = data.first else { throw MacaroonError("empty macaroon data") }
        if first == 2 {
            var parser = BinaryV2Parser(data: data, offset: 1)
            do {
                self = try parser.parse()
            } catch {
                throw MacaroonError("unmarshal v2: \(error.text)")
            }
            return
        }
        if Self.isASCIIHex(first) {
            var parser = BinaryV1Parser(data: data)
            do {
                self = try parser.parse()
            } catch {
                throw MacaroonError("unmarshal v1: \(error.text)")
            }
            return
        }
        throw MacaroonError("cannot determine data format of binary-encoded macaroon")
    }

    static func isASCIIHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b) }
}

/// A parse failure's text without the `unmarshal vN:` prefix.
struct FormatError: Error { let text: String; init(_ t: String) { text = t } }

/// go-macaroon `parseBinaryV2` / `parseSectionV2` / `parsePacketV2`, same order of checks.
struct BinaryV2Parser {
    let data: [UInt8]
    var offset: Int

    struct Packet { let field: UInt64; let start: Int; let end: Int }

    mutating func parse() throws(FormatError) -> Macaroon {
        var section = try parseSection()
        var location: [UInt8] = []
        if let first = section.first, first.field == Macaroon.Field.location.rawValue {
            location = bytes(first)
            section.removeFirst()
        }
        guard section.count == 1, section[0].field == Macaroon.Field.identifier.rawValue else {
            throw FormatError("invalid macaroon header")
        }
        let identifier = bytes(section[0])
        var caveats: [MacaroonCaveat] = []
        while true {
            var section = try parseSection()
            if section.isEmpty { break }
            var cav = MacaroonCaveat(identifier: [])
            if section[0].field == Macaroon.Field.location.rawValue {
                cav.location = bytes(section[0])
                section.removeFirst()
            }
            guard let idPacket = section.first, idPacket.field == Macaroon.Field.identifier.rawValue else {
                throw FormatError("no identifier in caveat")
            }
            cav.identifier = bytes(idPacket)
            section.removeFirst()
            if section.isEmpty {
                if !cav.location.isEmpty { throw FormatError("location not allowed in first party caveat") }
                caveats.append(cav)
                continue
            }
            if section.count != 1 { throw FormatError("extra fields found in caveat") }
            if section[0].field != Macaroon.Field.verificationID.rawValue {
                throw FormatError("invalid field found in caveat")
            }
            cav.verificationID = bytes(section[0])
            caveats.append(cav)
        }
        let sig = try parsePacket()
        if sig.field != Macaroon.Field.signature.rawValue {
            throw FormatError("unexpected field found instead of signature")
        }
        if sig.end - sig.start != 32 { throw FormatError("signature has unexpected length") }
        if offset != data.count { throw FormatError("unexpected data after signature") }
        return Macaroon(version: .v2, location: location, identifier: identifier,
                        caveats: caveats, signature: bytes(sig))
    }

    func bytes(_ p: Packet) -> [UInt8] { Array(data[p.start..<p.end]) }

    mutating func parseSection() throws(FormatError) -> [Packet] {
        var previous: Int64 = -1
        var packets: [Packet] = []
        while true {
            if offset >= data.count { throw FormatError("section extends past end of buffer") }
            let p = try parsePacket()
            if p.field == 0 { return packets }
            if Int64(p.field) <= previous { throw FormatError("fields out of order") }
            packets.append(p)
            previous = Int64(p.field)
        }
    }

    mutating func parsePacket() throws(FormatError) -> Packet {
        let field = try parseVarint()
        if field == 0 { return Packet(field: 0, start: offset, end: offset) }
        let length = Int(try parseVarint())
        if length > data.count - offset { throw FormatError("field data extends past end of buffer") }
        let p = Packet(field: field, start: offset, end: offset + length)
        offset += length
        return p
    }

    /// Go `binary.Uvarint` plus go-macaroon's 31-bit bound.
    mutating func parseVarint() throws(FormatError) -> UInt64 {
        var x: UInt64 = 0
        var shift: UInt64 = 0
        var i = 0
        while offset + i < data.count {
            if i == 10 { throw FormatError("varint value out of range") }
            let b = data[offset + i]
            if b < 0x80 {
                if i == 9 && b > 1 { throw FormatError("varint value out of range") }
                x |= UInt64(b) << shift
                offset += i + 1
                if x > 0x7fff_ffff { throw FormatError("varint value out of range") }
                return x
            }
            x |= UInt64(b & 0x7f) << shift
            shift += 7
            i += 1
        }
        throw FormatError("varint value extends past end of buffer")
    }
}

/// go-macaroon `parseBinaryV1` / `parsePacketV1`.
struct BinaryV1Parser {
    let data: [UInt8]
    var offset = 0

    struct Packet { let name: [UInt8]; let value: [UInt8] }

    init(data: [UInt8]) { self.data = data }

    mutating func expect(_ name: String) throws(FormatError) -> [UInt8] {
        let p = try parsePacket()
        guard p.name == Array(name.utf8) else {
            throw FormatError("unexpected field \(goQuote(p.name)); expected \(name)")
        }
        return p.value
    }

    mutating func parse() throws(FormatError) -> Macaroon {
        let location = try expect("location")
        let identifier = try expect("identifier")
        var caveats: [MacaroonCaveat] = []
        var current: MacaroonCaveat? = nil
        while true {
            let p = try parsePacket()
            switch String(decoding: p.name, as: UTF8.self) {
            case "signature":
                if let c = current { caveats.append(c) }
                guard p.value.count == 32 else {
                    throw FormatError("signature has unexpected length \(p.value.count)")
                }
                if offset != data.count { throw FormatError("unexpected data after signature") }
                return Macaroon(version: .v1, location: location, identifier: identifier,
                                caveats: caveats, signature: p.value)
            case "cid":
                if let c = current { caveats.append(c) }
                current = MacaroonCaveat(identifier: p.value)
            case "vid":
                guard var c = current, c.verificationID.isEmpty else {
                    throw FormatError("repeated field \"vid\" in caveat")
                }
                c.verificationID = p.value
                current = c
            case "cl":
                guard var c = current, c.location.isEmpty else {
                    throw FormatError("repeated field \"location\" in caveat")
                }
                c.location = p.value
                current = c
            default:
                throw FormatError("unexpected field \(goQuote(p.name))")
            }
        }
    }

    mutating func parsePacket() throws(FormatError) -> Packet {
        let rest = data.count - offset
        if rest < 6 { throw FormatError("packet too short") }
        var size = 0
        for i in 0..<4 {
            let c = data[offset + i]
            let d: Int
            switch c {
            case 0x30...0x39: d = Int(c - 0x30)
            case 0x61...0x66: d = Int(c - 0x61 + 10)
            default: throw FormatError("cannot parse size")
            }
            size = size << 4 | d
        }
        if size > rest { throw FormatError("packet size too big") }
        if size < 6 { throw FormatError("cannot parse field name") }
        let body = data[(offset + 4)..<(offset + size)]
        guard let space = body.firstIndex(of: 0x20), space > body.startIndex else {
            throw FormatError("cannot parse field name")
        }
        guard body.last == 0x0a else { throw FormatError("no terminating newline found") }
        let packet = Packet(name: Array(body[body.startIndex..<space]),
                            value: Array(body[(space + 1)..<(body.endIndex - 1)]))
        offset += size
        return packet
    }
}
