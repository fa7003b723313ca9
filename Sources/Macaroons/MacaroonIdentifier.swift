import Crypto
import ProtoWire

/// LND's macaroon identifier: the bakery's Version3 id, i.e. the byte `0x03` followed by the
/// protobuf `MacaroonId { bytes nonce = 1; bytes storageId = 2; repeated Op ops = 3; }` with
/// `Op { string entity = 1; repeated string actions = 2; }` (bakery `macaroonpb`, mirrored in
/// lightning.proto).
///
/// Ops are canonical: sorted by (entity, action), duplicates removed, grouped per entity in
/// one `Op` whose actions keep that order (bakery `CanonicalOps` + `macaroonIdOps`).
public struct MacaroonIdentifier: Sendable, Equatable {
    /// The bakery identifier version LND mints and accepts.
    public static let version: UInt8 = 3

    public var nonce: [UInt8]
    /// The root key id, e.g. `"0"` (``RootKeyID/default``) or the decimal text of a uint64.
    public var storageID: [UInt8]
    /// The operations, already expanded to single (entity, action) pairs in stored order.
    public var permissions: [MacaroonPermission]

    public init(nonce: [UInt8], storageID: [UInt8], permissions: [MacaroonPermission]) {
        self.nonce = nonce
        self.storageID = storageID
        self.permissions = permissions
    }

    /// A fresh identifier with a random 16-byte nonce and canonicalized permissions.
    public static func new(storageID: [UInt8], permissions: [MacaroonPermission]) -> MacaroonIdentifier {
        MacaroonIdentifier(nonce: SecureRandom.bytes(16), storageID: storageID,
                           permissions: MacaroonPermission.canonical(permissions))
    }

    /// `0x03 ‖ MacaroonId`. Permissions are grouped per consecutive entity, as the bakery does
    /// for canonical input.
    public func encoded() -> [UInt8] {
        var w = ProtoWriter(capacity: 64 + permissions.count * 24)
        w.writeRawBytes([Self.version])
        w.writeBytes(nonce, field: 1)
        w.writeBytes(storageID, field: 2)
        var i = 0
        while i < permissions.count {
            let entity = permissions[i].entity
            var actions: [String] = []
            while i < permissions.count && permissions[i].entity == entity {
                if actions.last != permissions[i].action { actions.append(permissions[i].action) }
                i += 1
            }
            w.writeNested(field: 3) { op in
                op.writeString(entity, field: 1)
                for a in actions { op.writeString(a, field: 2, omitDefault: false) }
            }
        }
        return w.bytes
    }

    /// Decodes the bytes after the version byte as the bakery does (`decodeMacaroonId`,
    /// Version3 branch). Errors carry bakery's text without the checker's
    /// `cannot retrieve macaroon: ` prefix.
    public static func decode(protobuf bytes: ArraySlice<UInt8>) throws(MacaroonError) -> MacaroonIdentifier {
        var id = MacaroonIdentifier(nonce: [], storageID: [], permissions: [])
        var groups: [(String, [String])] = []
        do {
            try bytes.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws in
                var r = ProtoReader(buffer: buf)
                while let tag = try r.nextTag() {
                    // protobuf-go treats a known field with another wire type as unknown.
                    if tag.wireType != .lengthDelimited { try r.skip(tag); continue }
                    switch tag.number {
                    case 1: id.nonce = try r.readBytes(tag)
                    case 2: id.storageID = try r.readBytes(tag)
                    case 3:
                        var nested = try r.nestedReader(tag)
                        var entity = ""
                        var actions: [String] = []
                        while let t = try nested.nextTag() {
                            if t.wireType != .lengthDelimited { try nested.skip(t); continue }
                            switch t.number {
                            case 1: entity = try nested.readString(t)
                            case 2: actions.append(try nested.readString(t))
                            default: try nested.skip(t)
                            }
                        }
                        groups.append((entity, actions))
                    default: try r.skip(tag)
                    }
                }
            }
        } catch let e as ProtoDecodingError {
            throw MacaroonError("cannot unmarshal macaroon id: " + protobufErrorText(e))
        } catch {
            throw MacaroonError("cannot unmarshal macaroon id: proto: cannot parse invalid wire-format data")
        }
        guard let first = groups.first, !first.1.isEmpty else {
            throw MacaroonError("no operations found in macaroon")
        }
        for (entity, actions) in groups {
            for a in actions { id.permissions.append(MacaroonPermission(entity: entity, action: a)) }
        }
        return id
    }

    /// Go protobuf's wording for the failure (`proto: …`).
    static func protobufErrorText(_ e: ProtoDecodingError) -> String {
        switch e {
        case .invalidUTF8(let field):
            return field == 1 ? "proto: field macaroonpb.Op.entity contains invalid UTF-8"
                              : "proto: field macaroonpb.Op.actions contains invalid UTF-8"
        default:
            return "proto: cannot parse invalid wire-format data"
        }
    }
}
