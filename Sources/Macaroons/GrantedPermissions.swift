/// The operations a verified macaroon grants, compiled for a constant-time-ish check per call:
/// the standard entity:action pairs are bits of a mask, `uri:` grants a set of full methods,
/// anything else (external permissions) a set.
public struct GrantedPermissions: Sendable, Equatable {
    var mask: UInt64 = 0
    public private(set) var uriMethods: Set<String> = []
    var others: Set<MacaroonPermission> = []
    public let permissions: [MacaroonPermission]

    /// The bit of each standard (entity, action) pair.
    static let bitIndex: [MacaroonPermission: Int] = {
        var m: [MacaroonPermission: Int] = [:]
        var i = 0
        for e in MacaroonPermission.validEntities where e != MacaroonPermission.uriEntity {
            for a in MacaroonPermission.validActions {
                m[MacaroonPermission(e, a)] = i
                i += 1
            }
        }
        return m
    }()

    public init(_ ops: [MacaroonPermission]) {
        permissions = ops
        for op in ops {
            if let bit = Self.bitIndex[op] {
                mask |= 1 << UInt64(bit)
            } else if op.entity == MacaroonPermission.uriEntity {
                uriMethods.insert(op.action)
            } else {
                others.insert(op)
            }
        }
    }

    /// True when every permission in `required` is granted (bakery `checkDirect`).
    public func allows(_ required: RequiredSet) -> Bool {
        guard mask & required.mask == required.mask else { return false }
        for op in required.others where !others.contains(op) && !(op.entity == MacaroonPermission.uriEntity && uriMethods.contains(op.action)) {
            return false
        }
        return true
    }

    /// LND `CheckMacAuth`: the required permissions, or else `uri:<fullMethod>`.
    public func allows(_ required: RequiredSet, fullMethod: String) -> Bool {
        allows(required) || uriMethods.contains(fullMethod)
    }
}

/// A method's required permissions, compiled once (see ``GrantedPermissions``).
public struct RequiredSet: Sendable, Equatable {
    var mask: UInt64 = 0
    var others: [MacaroonPermission] = []
    public let permissions: [MacaroonPermission]

    public init(_ ops: [MacaroonPermission]) {
        permissions = ops
        for op in ops {
            if let bit = GrantedPermissions.bitIndex[op] { mask |= 1 << UInt64(bit) } else { others.append(op) }
        }
    }
}
