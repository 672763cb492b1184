import RadonWire

/// The trash: a regular file losing its last name (unlink, or a rename over it) while the
/// cluster's retention is above 0 keeps its inode, block map and fragments, with nlink 0, and
/// gets a row in `trash` (where it was, and when it went). `restoreFromTrash` names it again;
/// `purgeTrash` and `expireTrash` free it as a removal without the trash would have.
///
/// Invariants: every `trash` row names an inode that exists, is regular and has nlink 0; such
/// an inode is not an orphan (`orphans` and `reapOrphan` leave it alone) until its row goes.
/// The retention is the `counter` row `trash_retention_seconds`, so every metadata server of a
/// PostgreSQL group reads the same one.
extension SQLMetadataStore {
    /// How long removed files are kept when nobody set it: one day.
    public static let defaultTrashRetentionSeconds: UInt64 = 86_400
    static let trashRetentionCounter = "trash_retention_seconds"
    static let maximumTrashRetentionSeconds: UInt64 = 100 * 365 * 86_400

    /// The trash's table and the default retention, as one migration runs them. Names are BLOB
    /// on SQLite and BYTEA on PostgreSQL, as in `dentry`.
    static func trashSchema(nameType: String) -> [String] {
        [
            "CREATE TABLE trash (inode BIGINT PRIMARY KEY, parent BIGINT NOT NULL, name \(nameType) NOT NULL, removed_at BIGINT NOT NULL)",
            "CREATE INDEX trash_by_age ON trash (removed_at)",
            "INSERT INTO counter (name, value) VALUES ('\(trashRetentionCounter)', \(defaultTrashRetentionSeconds))",
        ]
    }

    public func trashList(after: UInt64, limit: Int) async throws -> [TrashEntry] {
        try await engine.read { db in
            let retention = try db.trashRetentionSeconds()
            var paths: [UInt64: String?] = [:]
            return try db.rows("""
                SELECT t.inode, t.parent, t.name, t.removed_at, i.size FROM trash t JOIN inode i ON i.id = t.inode
                WHERE t.inode > ? ORDER BY t.inode LIMIT ?
                """, [after, max(1, min(limit, 100_000))]).map { row in
                let parent: UInt64 = row[1]
                let name: FileName = row[2]
                let removedAt: Int64 = row[3]
                if paths[parent] == nil { paths[parent] = .some(try db.path(ofDirectory: parent)) }
                let directory = paths[parent] ?? nil
                return TrashEntry(
                    inode: row[0], parent: parent, name: name, path: directory.map { Self.path(in: $0, name) }, size: row[4],
                    removedAt: Timestamp(nanoseconds: removedAt),
                    expiresAt: Timestamp(nanoseconds: removedAt &+ Int64(retention) * 1_000_000_000))
            }
        }
    }

    /// Names the file again, in one transaction: its entry leaves the trash only with the name
    /// made. EEXIST when the name is taken, ENOENT when the directory is gone: nothing changes.
    public func restoreFromTrash(_ request: TrashRestoreRequest) async throws -> TrashRestoreReply {
        let now = nowNanoseconds()
        return try await committer.write { db in
            guard let row = try db.row("SELECT parent, name FROM trash WHERE inode = ?", [request.inode]) else {
                throw FileSystemError.notFound("no file \(request.inode) in the trash")
            }
            let (parentID, name): (UInt64, FileName) = if let destination = request.destination {
                try db.parentAndName(of: destination)
            } else {
                (row[0], row[1])
            }
            guard let directoryPath = try db.path(ofDirectory: parentID) else {
                throw FileSystemError.notFound("the directory it was removed from (inode \(parentID)) is gone: restore it elsewhere with --to PATH")
            }
            let path = Self.path(in: directoryPath, name)
            var parent = try db.directory(parentID)
            try NameRule.validate(name)
            if try db.entry(in: parentID, named: name) != nil {
                throw FileSystemError.exists("\(path) exists: restore it elsewhere with --to PATH")
            }
            var file = try db.inode(request.inode)
            file.linkCount = 1
            file.touchChange(now)
            try db.save(file)
            try db.insertEntry(in: parentID, named: name, inode: file.id)
            // Back under a quota's directory: charged, not refused (an operator restores it).
            try self.charge(db, directory: parentID, bytes: Int64(clamping: file.size), files: 1, enforce: false)
            parent.touchContent(now)
            try db.save(parent)
            try db.execute("DELETE FROM trash WHERE inode = ?", [file.id])
            return TrashRestoreReply(attributes: file.attributes, path: path)
        }
    }

    /// Frees `inodes` (those of them in the trash), or every entry with `all`.
    public func purgeTrash(_ request: TrashPurgeRequest) async throws -> TrashPurgeReply {
        let now = nowNanoseconds()
        return try await committer.write { db in
            let inodes: [UInt64] = request.all
                ? try db.rows("SELECT inode FROM trash ORDER BY inode").map { $0[0] }
                : request.inodes
            return try db.freeTrashed(inodes, now: now, keepingOpen: self.openFiles)
        }
    }

    /// Frees the entries older than the retention (at most `limit` of them, oldest first): the
    /// maintenance pass. With a retention of 0 every entry is older.
    public func expireTrash(limit: Int) async throws -> TrashPurgeReply {
        let now = nowNanoseconds()
        // Asked by a read first: the pass runs every 10 s, and mostly finds nothing to free,
        // which must not take the writer (a write transaction, fenced, on PostgreSQL) each time.
        let due = try await engine.read { db in
            try db.row("SELECT 1 FROM trash WHERE removed_at <= ? LIMIT 1", [now - Int64(try db.trashRetentionSeconds()) * 1_000_000_000]) != nil
        }
        guard due else { return TrashPurgeReply(files: 0, bytes: 0) }
        return try await committer.write { db in
            let cutoff = now - Int64(try db.trashRetentionSeconds()) * 1_000_000_000
            let expired: [UInt64] = try db.rows(
                "SELECT inode FROM trash WHERE removed_at <= ? ORDER BY removed_at LIMIT ?", [cutoff, max(1, limit)]
            ).map { $0[0] }
            return try db.freeTrashed(expired, now: now, keepingOpen: self.openFiles)
        }
    }

    /// The retention and what the trash holds, after setting the retention when asked to.
    public func trashSettings(_ request: TrashSettingsRequest) async throws -> TrashSummary {
        if let seconds = request.retentionSeconds {
            // Kept well within nanoseconds since the epoch in an Int64, where expiry computes.
            guard seconds <= Self.maximumTrashRetentionSeconds else {
                throw FileSystemError.invalid("a retention of \(seconds) s is more than 100 years")
            }
            try await committer.write { db in
                try db.execute(
                    "INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [Self.trashRetentionCounter, Int64(clamping: seconds)])
            }
        }
        return try await engine.read { db in
            let totals = try db.row("SELECT COUNT(*), CAST(COALESCE(SUM(i.size), 0) AS BIGINT) FROM trash t JOIN inode i ON i.id = t.inode")
            let files: UInt64 = totals.map { $0[0] } ?? 0
            let bytes: UInt64 = totals.map { $0[1] } ?? 0
            return TrashSummary(retentionSeconds: try db.trashRetentionSeconds(), files: files, bytes: bytes)
        }
    }

    static func path(in directory: String, _ name: FileName) -> String {
        directory == "/" ? "/\(name)" : "\(directory)/\(name)"
    }
}

extension SQLTransaction {
    func trashRetentionSeconds() throws -> UInt64 {
        let value: Int64 = try row("SELECT value FROM counter WHERE name = ?", [SQLMetadataStore.trashRetentionCounter]).map { $0[0] } ?? 0
        return UInt64(min(max(0, value), Int64(SQLMetadataStore.maximumTrashRetentionSeconds)))
    }

    /// Keeps `record`, which loses its last name (`name` in `parent`), in the trash when the
    /// retention is above 0; false (nothing done) otherwise or for anything but a regular file.
    func keepInTrash(_ record: InodeRecord, from parent: UInt64, named name: FileName, now: Int64) throws -> Bool {
        guard record.kind == .regular, try trashRetentionSeconds() > 0 else { return false }
        try execute(
            """
            INSERT INTO trash (inode, parent, name, removed_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (inode) DO UPDATE SET parent = excluded.parent, name = excluded.name, removed_at = excluded.removed_at
            """,
            [record.id, parent, name, now])
        return true
    }

    /// Frees trashed files as a removal without the trash would have: the inode goes and its
    /// fragments join the pending deletions, unless a session holds it open (then it stays an
    /// orphan, freed at its last close). Inodes not in the trash are skipped.
    func freeTrashed(_ inodes: [UInt64], now: Int64, keepingOpen openFiles: OpenFileHolds) throws -> TrashPurgeReply {
        var reply = TrashPurgeReply(files: 0, bytes: 0)
        for inode in inodes {
            guard try row("DELETE FROM trash WHERE inode = ? RETURNING inode", [inode]) != nil else { continue }
            let record = try self.inode(inode)
            reply.files += 1
            reply.bytes += record.size
            if openFiles.isOpen(inode) {
                openFiles.orphaned(inode)
            } else {
                _ = try deleteInode(record, now: now)
            }
        }
        return reply
    }

    /// The absolute path of directory `id` now, walking ".." links up to the root; nil when
    /// it is gone (or not a directory). Each step reads the parent's entries for the one
    /// naming it: a listing's cost, not an unlink's.
    func path(ofDirectory id: UInt64) throws -> String? {
        var names: [String] = []
        var current = id
        while current != SQLMetadataStore.rootInode {
            guard let row = try row("SELECT kind, parent FROM inode WHERE id = ?", [current]),
                  (row[0] as UInt8) == InodeKind.directory.rawValue, let parent = row[1] as UInt64? else { return nil }
            guard let entry = try self.row("SELECT name FROM dentry WHERE parent = ? AND inode = ? LIMIT 1", [parent, current]) else {
                return nil
            }
            names.append((entry[0] as FileName).description)
            current = parent
            if names.count > 4096 { throw WireError(.corrupt, "directory parent chain loops at \(current)") }
        }
        return "/" + names.reversed().joined(separator: "/")
    }

    /// The existing directory and the last name of the absolute `path`, looked up from the root.
    func parentAndName(of path: String) throws -> (parent: UInt64, name: FileName) {
        let names = path.split(separator: "/").map { FileName(String($0)) }.filter { $0 != .dot }
        guard let name = names.last else { throw FileSystemError.invalid("\"\(path)\" names the root, not a file") }
        var current = SQLMetadataStore.rootInode
        for component in names.dropLast() {
            guard let entry = try entry(in: current, named: component) else {
                throw FileSystemError.notFound("no directory \"\(component)\" on the way to \(path)")
            }
            current = try directory(entry.inode).id
        }
        return (current, name)
    }
}
