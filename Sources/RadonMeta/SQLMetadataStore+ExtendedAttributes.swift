#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RadonWire

extension SQLMetadataStore {
    public func extendedAttribute(_ request: ExtendedAttributeRequest) async throws -> [UInt8] {
        if request.name == LayoutAttribute.name { return try await layoutAttribute(of: request.inode) }
        try Self.validateAttributeName(request.name)
        // One statement (PostgreSQL: one round trip, no transaction).
        guard let row = try await engine.rows(StoreQuery.extendedAttributeOfInode, [request.name, request.inode]).first else {
            throw FileSystemError.notFound("no inode \(request.inode)")
        }
        guard let value = row[0] as Data? else {
            throw FileSystemError.noAttribute("no attribute \"\(request.name)\" on inode \(request.inode)")
        }
        return [UInt8](value)
    }

    public func setExtendedAttribute(_ request: SetExtendedAttributeRequest) async throws {
        if request.name == LayoutAttribute.name { return try await setLayoutAttribute(request) }
        try Self.validateAttributeName(request.name)
        guard request.value.count <= MetaLimits.maximumAttributeValueLength else {
            throw FileSystemError(E2BIG, "attribute value of \(request.value.count) bytes, at most \(MetaLimits.maximumAttributeValueLength)")
        }
        guard request.flags & ~3 == 0, request.flags != 3 else {
            throw FileSystemError.invalid("unknown setxattr flags \(request.flags)")
        }
        let now = nowNanoseconds()
        try await committer.write { db in
            var record = try db.inode(request.inode)
            try Self.checkAttributeWrite(request.name, on: record, by: request.caller)
            let exists = try db.row("SELECT 1 FROM xattr WHERE inode = ? AND name = ?", [record.id, request.name]) != nil
            if request.flags == 1, exists { throw FileSystemError.exists("attribute \"\(request.name)\" exists") }
            if request.flags == 2, !exists { throw FileSystemError.noAttribute("no attribute \"\(request.name)\"") }
            try db.execute(
                "INSERT INTO xattr (inode, name, value) VALUES (?, ?, ?) ON CONFLICT (inode, name) DO UPDATE SET value = excluded.value",
                [record.id, request.name, Data(request.value)]
            )
            record.touchChange(now)
            try db.save(record)
        }
    }

    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        try await engine.read { db in
            _ = try db.inode(inode)
            return try db.rows("SELECT name FROM xattr WHERE inode = ? ORDER BY name", [inode]).map { $0[0] }
        }
    }

    public func removeExtendedAttribute(_ request: ExtendedAttributeRequest) async throws {
        if request.name == LayoutAttribute.name { return try await removeLayoutAttribute(request) }
        try Self.validateAttributeName(request.name)
        let now = nowNanoseconds()
        try await committer.write { db in
            var record = try db.inode(request.inode)
            try Self.checkAttributeWrite(request.name, on: record, by: request.caller)
            guard try db.changes("DELETE FROM xattr WHERE inode = ? AND name = ?", [record.id, request.name]) > 0 else { throw FileSystemError.noAttribute("no attribute \"\(request.name)\"") }
            record.touchChange(now)
            try db.save(record)
        }
    }

    /// The namespaces Linux knows; anything else is EOPNOTSUPP, as on ext4 (but for the virtual
    /// `radonfs.layout`, answered before this check).
    static func validateAttributeName(_ name: String) throws {
        guard !name.isEmpty else { throw FileSystemError.invalid("empty attribute name") }
        guard name.utf8.count <= MetaLimits.maximumAttributeNameLength else {
            throw FileSystemError.rangeTooSmall("attribute name of \(name.utf8.count) bytes")
        }
        let namespaces = ["user.", "trusted.", "security.", "system."]
        guard let namespace = namespaces.first(where: { name.hasPrefix($0) }), name.count > namespace.count else {
            throw FileSystemError.unsupported("attribute \"\(name)\" is in no known namespace")
        }
    }

    /// Who may change an attribute: user.* needs write access (and a regular file or
    /// directory), trusted.* and security.* need root, system.* (ACLs) the owner.
    static func checkAttributeWrite(_ name: String, on record: InodeRecord, by caller: MetaCaller) throws {
        if name.hasPrefix("user.") {
            guard record.kind == .regular || record.kind == .directory else {
                throw FileSystemError.notPermitted("user attributes only on files and directories")
            }
            try caller.require(.write, on: record)
        } else if name.hasPrefix("system.") {
            try caller.requireOwnership(of: record)
        } else if !caller.isRoot {
            throw FileSystemError.notPermitted("only root may set \"\(name)\"")
        }
    }
}
