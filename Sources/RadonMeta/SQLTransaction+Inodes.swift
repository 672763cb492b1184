import Foundation
import RadonWire

/// The row-level steps every namespace operation is built from, each one cached statement.
extension SQLTransaction {
    func inode(_ id: UInt64) throws -> InodeRecord {
        guard let row = try self.row(StoreQuery.inode, [id]) else {
            throw FileSystemError.notFound("no inode \(id)")
        }
        return try InodeRecord(row: row)
    }

    /// The inode, which must be a directory (ENOTDIR otherwise).
    func directory(_ id: UInt64) throws -> InodeRecord {
        try inode(id).requireDirectory()
    }

    /// Writes back every mutable column but the inline bytes and symlink target.
    func save(_ record: InodeRecord) throws {
        try self.execute(
            """
            UPDATE inode SET permissions = ?, uid = ?, gid = ?, size = ?, atime = ?, mtime = ?, ctime = ?,
                nlink = ?, generation = ?, parent = ?, volume_id = ?, group_id = ? WHERE id = ?
            """,
            [record.permissions, record.uid, record.gid, record.size, record.accessTime, record.modificationTime,
             record.changeTime, record.linkCount, record.generation, record.parent, record.volumeID,
             record.groupID, record.id]
        )
    }

    /// Inserts a new inode and returns it with its number (never reused: AUTOINCREMENT on
    /// SQLite, a sequence on PostgreSQL). A non-zero id in `record` is a number reserved ahead
    /// (`reserveInodeNumber`) and is inserted as it is; an id of 0 lets the engine number it,
    /// which on PostgreSQL costs a wait for the `RETURNING id`.
    func insert(_ record: InodeRecord, inlineData: [UInt8]?, symlinkTarget: [UInt8]?) throws -> InodeRecord {
        var inserted = record
        inserted.isInline = inlineData != nil
        if record.id != 0 {
            try self.execute(
                """
                INSERT INTO inode (id, kind, permissions, uid, gid, rdev, size, atime, mtime, ctime, nlink, generation,
                    parent, volume_id, group_id, inline_data, symlink_target)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [record.id, record.kind.rawValue, record.permissions, record.uid, record.gid, record.rdev, record.size,
                 record.accessTime, record.modificationTime, record.changeTime, record.linkCount, record.generation,
                 record.parent, record.volumeID, record.groupID, inlineData.map { Data($0) }, symlinkTarget.map { Data($0) }]
            )
            return inserted
        }
        let row = try self.row(
            """
            INSERT INTO inode (kind, permissions, uid, gid, rdev, size, atime, mtime, ctime, nlink, generation,
                parent, volume_id, group_id, inline_data, symlink_target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [record.kind.rawValue, record.permissions, record.uid, record.gid, record.rdev, record.size,
             record.accessTime, record.modificationTime, record.changeTime, record.linkCount, record.generation,
             record.parent, record.volumeID, record.groupID, inlineData.map { Data($0) }, symlinkTarget.map { Data($0) }]
        )
        guard let row else { throw WireError(.internalError, "INSERT RETURNING gave no row") }
        inserted.id = row[0]
        return inserted
    }

    /// Deletes an inode whose last link went, with its extended attributes. Returns the file to
    /// clean off the storage nodes when it had fragments, and remembers it until confirmed.
    func deleteInode(_ record: InodeRecord, now: Int64) throws -> RemovedFile? {
        try self.execute("DELETE FROM inode WHERE id = ?", [record.id])
        try self.execute("DELETE FROM xattr WHERE inode = ?", [record.id])
        try self.execute("DELETE FROM block_map WHERE inode = ?", [record.id])
        guard record.kind == .regular, !record.isInline, let volumeID = record.volumeID, let groupID = record.groupID else {
            return nil
        }
        let removed = RemovedFile(inode: record.id, volumeID: volumeID, groupID: groupID, size: record.size)
        try self.execute(
            """
            INSERT INTO removed_file (inode, volume_id, group_id, size, removed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (inode) DO UPDATE SET volume_id = excluded.volume_id, group_id = excluded.group_id,
                size = excluded.size, removed_at = excluded.removed_at
            """,
            [removed.inode, removed.volumeID, removed.groupID, removed.size, now]
        )
        return removed
    }

    /// The entry `name` in `parent`: its row id (the readdir cookie's base) and inode.
    func entry(in parent: UInt64, named name: FileName) throws -> (id: Int64, inode: UInt64)? {
        guard let row = try self.row(StoreQuery.entry, [parent, name]) else {
            return nil
        }
        return (row[0], row[1])
    }

    func insertEntry(in parent: UInt64, named name: FileName, inode: UInt64) throws {
        try self.execute("INSERT INTO dentry (parent, name, inode) VALUES (?, ?, ?)", [parent, name, inode])
    }

    func deleteEntry(id: Int64) throws {
        try self.execute("DELETE FROM dentry WHERE id = ?", [id])
    }

    func hasEntries(_ directory: UInt64) throws -> Bool {
        try self.row("SELECT 1 FROM dentry WHERE parent = ? LIMIT 1", [directory]) != nil
    }
}

/// Names as POSIX allows them in a directory.
enum NameRule {
    /// Refuses names no directory can hold: empty, "." or "..", with "/" or NUL, longer than
    /// NAME_MAX bytes. Any other bytes make a name, UTF-8 or not.
    static func validate(_ name: FileName) throws {
        if name.count > MetaLimits.maximumNameLength {
            throw FileSystemError.nameTooLong("name of \(name.count) bytes, at most \(MetaLimits.maximumNameLength)")
        }
        if name.isEmpty || name == "." || name == ".." {
            throw FileSystemError.invalid("invalid name \"\(name)\"")
        }
        if name.bytes.contains(where: { $0 == 0x2F || $0 == 0 }) {
            throw FileSystemError.invalid("a name cannot contain '/' or NUL")
        }
    }
}
