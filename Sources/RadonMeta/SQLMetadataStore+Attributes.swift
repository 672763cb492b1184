import Foundation
import RadonWire

extension SQLMetadataStore {
    /// setattr: chmod, chown, truncate, utimens, each with the rules POSIX gives it. ctime and
    /// the generation change whatever changed; a size change also sets mtime.
    public func setAttributes(_ request: SetAttributesRequest) async throws -> InodeAttributes {
        let now = nowNanoseconds()
        return try await committer.write { db in
            var record = try db.inode(request.inode)
            let changes = request.changes
            let caller = request.caller

            if let permissions = changes.permissions,
               Self.onlyDropsPrivileges(of: record, to: permissions & 0o7777), !caller.isRoot, caller.uid != record.uid {
                // The kernel clears setuid/setgid itself when a non-owner writes or truncates
                // (HANDLE_KILLPRIV is off): it sends this mode change as the writer.
                if !request.throughWritableHandle { try caller.require(.write, on: record) }
                record.permissions = permissions & 0o7777
            } else if let permissions = changes.permissions {
                try caller.requireOwnership(of: record)
                var newPermissions = permissions & 0o7777
                // A non-member may not keep the setgid bit (chmod(2), EPERM-free variant: Linux clears it).
                if !caller.isRoot, !caller.isMember(of: changes.gid ?? record.gid) { newPermissions &= ~0o2000 }
                record.permissions = newPermissions
            }
            if changes.uid != nil || changes.gid != nil {
                try Self.checkOwnerChange(of: record, to: changes, by: caller)
                if let uid = changes.uid { record.uid = uid }
                if let gid = changes.gid { record.gid = gid }
                // chown clears set-user-id, and set-group-id when it means "execute as group",
                // for root too (Linux since 2.2.13).
                if record.kind != .directory {
                    record.permissions &= ~0o4000
                    if record.permissions & 0o010 != 0 { record.permissions &= ~0o2000 }
                }
            }
            if let size = changes.size {
                switch record.kind {
                case .directory: throw FileSystemError.isDirectory("cannot truncate a directory")
                case .regular: break
                default: throw FileSystemError.invalid("only regular files have a size to set")
                }
                if !request.throughWritableHandle { try caller.require(.write, on: record) }
                try self.chargeSize(db, of: record, to: size)
                try db.resize(&record, to: size)
                record.modificationTime = now
            }
            try Self.applyTimes(changes, to: &record, by: caller, now: now)
            record.touchChange(now)
            try db.save(record)
            return record.attributes
        }
    }

    /// Whether `permissions` is the file's mode with only setuid and/or setgid taken away: what
    /// a writer may ask for, as Linux clears them on write, truncate and chown by anyone without
    /// CAP_FSETID. Taking them away grants nothing, so write access is enough.
    static func onlyDropsPrivileges(of record: InodeRecord, to permissions: UInt32) -> Bool {
        let privileges: UInt32 = 0o6000
        return record.kind == .regular
            && permissions != record.permissions
            && permissions & ~privileges == record.permissions & ~privileges
            && permissions & privileges & ~record.permissions == 0
    }

    /// chown: only root changes the owner; the owner may change the group to one of its own.
    static func checkOwnerChange(of record: InodeRecord, to changes: AttributeChanges, by caller: MetaCaller) throws {
        guard !caller.isRoot else { return }
        if let uid = changes.uid, uid != record.uid {
            throw FileSystemError.notPermitted("only root may change the owner")
        }
        if let gid = changes.gid, gid != record.gid {
            guard caller.uid == record.uid, caller.isMember(of: gid) else {
                throw FileSystemError.notPermitted("uid \(caller.uid) may not give inode \(record.id) to group \(gid)")
            }
        }
    }

    /// utimensat: "now" needs ownership or write access; an explicit time needs ownership.
    static func applyTimes(_ changes: AttributeChanges, to record: inout InodeRecord, by caller: MetaCaller, now: Int64) throws {
        let requested = [changes.accessTime, changes.modificationTime].compactMap { $0 }
        guard !requested.isEmpty else { return }
        if requested.contains(where: { if case .at = $0 { true } else { false } }) {
            try caller.requireOwnership(of: record)
        } else if !caller.isRoot, caller.uid != record.uid {
            try caller.require(.write, on: record)
        }
        func resolve(_ change: AttributeChanges.TimeChange) -> Int64 {
            switch change {
            case .now: now
            case .at(let time): time.totalNanoseconds
            }
        }
        if let change = changes.accessTime { record.accessTime = resolve(change) }
        if let change = changes.modificationTime { record.modificationTime = resolve(change) }
    }
}

extension SQLTransaction {
    /// Sets a regular file's size. An inline file stays inline while it fits the threshold (its
    /// bytes cut or zero-extended); one that outgrows it while holding only zeros becomes a
    /// block file of holes. One holding data must be moved out by the client first
    /// (`clearInline`, then blocks), since only the client writes fragments.
    func resize(_ record: inout InodeRecord, to size: UInt64) throws {
        guard record.isInline else {
            let previousSize = record.size
            record.size = size
            try updateBlockMap(of: &record, writing: [], previousSize: previousSize)
            return
        }
        let threshold = try inlineThreshold(of: record)
        var bytes = try inlineBytes(of: record.id)
        if size <= UInt64(threshold) {
            if size < UInt64(bytes.count) {
                bytes.removeLast(bytes.count - Int(size))
            } else {
                bytes.append(contentsOf: repeatElement(0, count: Int(size) - bytes.count))
            }
            try self.execute("UPDATE inode SET inline_data = ? WHERE id = ?", [Data(bytes), record.id])
        } else {
            guard bytes.allSatisfy({ $0 == 0 }) else {
                throw WireError(.unsupported, "inode \(record.id) holds inline data: clearInline before growing it past \(threshold) bytes")
            }
            try moveOutOfInline(&record)
        }
        record.size = size
    }

    func inlineBytes(of inode: UInt64) throws -> [UInt8] {
        guard let row = try self.row(StoreQuery.inlineData, [inode]) else {
            throw FileSystemError.notFound("no inode \(inode)")
        }
        return (row[0] as Data?).map { [UInt8]($0) } ?? []
    }

    /// Marks a file block-stored, giving it a volume and group if it had none yet.
    func moveOutOfInline(_ record: inout InodeRecord) throws {
        if record.groupID == nil {
            guard let volume = try record.volumeID.flatMap({ try volume(id: $0) }) ?? defaultVolume() else {
                throw WireError(.unavailable, "no volume exists yet to store inode \(record.id) in; create one")
            }
            record.volumeID = volume.id
            record.groupID = try groupID(forNewFile: record.id, volumeID: volume.id)
        }
        try self.execute("UPDATE inode SET inline_data = NULL WHERE id = ?", [record.id])
        record.isInline = false
    }

    /// The inline threshold that applies to a file: its volume's, or the default before any
    /// volume exists.
    ///
    /// The volume is read through the inode's row first (`volume(ofInode:)`, which a caller
    /// may have prefetched with the row), and by its id when the record names another.
    func inlineThreshold(of record: InodeRecord) throws -> UInt32 {
        if let volumeID = record.volumeID {
            if let volume = try volume(ofInode: record.id), volume.id == volumeID { return volume.inlineThreshold }
            if let volume = try volume(id: volumeID) { return volume.inlineThreshold }
        }
        return try defaultVolume()?.inlineThreshold ?? SQLMetadataStore.defaultInlineThreshold
    }
}
