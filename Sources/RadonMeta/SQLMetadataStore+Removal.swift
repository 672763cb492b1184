import RadonWire

extension SQLMetadataStore {
    public func remove(_ request: NameRequest) async throws -> RemovalReply {
        let now = nowNanoseconds()
        return try await committer.write { db in
            let found = try db.directoryEntry(in: request.parent, named: request.name)
            var parent = try found.directory.requireDirectory()
            try NameRule.validate(request.name)
            try request.caller.requireChange(of: parent)
            let entry = try found.requireEntry(named: request.name)
            var victim = entry.target
            guard !victim.isDirectory else { throw FileSystemError.isDirectory("\"\(request.name)\" is a directory") }
            try request.caller.requireStickyPermission(in: parent, toRemove: victim)
            try db.deleteEntry(id: entry.id)
            try self.charge(db, directory: parent.id, bytes: victim.kind == .regular ? -Int64(clamping: victim.size) : 0, files: -1, enforce: false)
            parent.touchContent(now)
            try db.save(parent)
            let removed = try db.dropLink(of: &victim, named: request.name, in: parent.id, now: now, keepingOpen: self.openFiles)
            return RemovalReply(removed: removed, parent: parent.attributes)
        }
    }

    public func orphans(limit: Int) async throws -> [UInt64] {
        try await engine.read { db in
            // Files in the trash have no link either, and are not orphans.
            try db.rows(
                "SELECT i.id FROM inode i WHERE i.nlink = 0 AND NOT EXISTS (SELECT 1 FROM trash t WHERE t.inode = i.id) ORDER BY i.id LIMIT ?",
                [max(0, min(limit, 65536))]
            ).map { $0[0] }
        }
    }

    public func reapOrphan(_ inode: UInt64) async throws -> Bool {
        // A lapsed session's files are all asked about: most still have a name, and a read
        // says so without taking the writer.
        let isOrphan = try await engine.read { db in
            try db.isOrphan(inode)
        }
        guard isOrphan else { return false }
        let now = nowNanoseconds()
        return try await committer.write { db in
            guard try db.isOrphan(inode) else { return false }
            _ = try db.deleteInode(try db.inode(inode), now: now)
            return true
        }
    }

    public func removeDirectory(_ request: NameRequest) async throws {
        let now = nowNanoseconds()
        try await committer.write { db in
            let found = try db.directoryEntry(in: request.parent, named: request.name)
            var parent = try found.directory.requireDirectory()
            if request.name == ".." { throw FileSystemError.notEmpty("cannot remove \"..\"") }
            try NameRule.validate(request.name)
            try request.caller.requireChange(of: parent)
            let entry = try found.requireEntry(named: request.name)
            let victim = entry.target
            guard victim.isDirectory else { throw FileSystemError.notDirectory("\"\(request.name)\" is not a directory") }
            try request.caller.requireStickyPermission(in: parent, toRemove: victim)
            guard try !db.hasEntries(victim.id) else { throw FileSystemError.notEmpty("\"\(request.name)\" is not empty") }
            try db.deleteEntry(id: entry.id)
            _ = try db.deleteInode(victim, now: now)
            try self.charge(db, directory: parent.id, bytes: 0, files: -1, enforce: false)
            parent.linkCount -= 1
            parent.touchContent(now)
            try db.save(parent)
        }
    }

    /// rename / renameat2: replace, no-replace or exchange, atomically, with the POSIX rules
    /// (a directory never into its own subtree, a non-empty directory never replaced, a
    /// directory only over a directory).
    public func rename(_ request: RenameRequest) async throws -> RemovedFile? {
        let now = nowNanoseconds()
        return try await committer.write { db in
            let caller = request.caller
            db.prefetchEntry(in: request.parent, named: request.name)
            db.prefetchEntry(in: request.newParent, named: request.newName)
            if request.newParent != request.parent { db.prefetchInode(request.newParent) }
            var source = try db.directory(request.parent)
            var target = request.newParent == source.id ? source : try db.directory(request.newParent)
            try NameRule.validate(request.name)
            try NameRule.validate(request.newName)
            try caller.requireChange(of: source)
            try caller.requireChange(of: target)
            guard let moving = try db.entry(in: source.id, named: request.name) else {
                throw FileSystemError.notFound("no \"\(request.name)\" in directory \(source.id)")
            }
            var movingInode = try db.inode(moving.inode)
            let existing = try db.entry(in: target.id, named: request.newName)
            var existingInode = try existing.map { try db.inode($0.inode) }

            switch request.mode {
            case .noReplace where existing != nil:
                throw FileSystemError.exists("\"\(request.newName)\" exists")
            case .exchange where existing == nil:
                throw FileSystemError.notFound("no \"\(request.newName)\" to exchange with")
            default: break
            }
            // Two names of one inode (or one name onto itself): POSIX says do nothing.
            if movingInode.id == existingInode?.id { return nil }

            try caller.requireStickyPermission(in: source, toRemove: movingInode)
            if let existingInode { try caller.requireStickyPermission(in: target, toRemove: existingInode) }
            let crossesDirectories = source.id != target.id
            if crossesDirectories, movingInode.isDirectory {
                // Its ".." changes: that is a write to the directory itself.
                try caller.require(.write, on: movingInode)
                try db.requireNotWithin(movingInode.id, directory: target.id)
            }

            if request.mode == .exchange, let existing, var other = existingInode {
                if crossesDirectories, other.isDirectory {
                    try caller.require(.write, on: other)
                    try db.requireNotWithin(other.id, directory: source.id)
                }
                try db.execute("UPDATE dentry SET inode = ? WHERE id = ?", [other.id, moving.id])
                try db.execute("UPDATE dentry SET inode = ? WHERE id = ?", [movingInode.id, existing.id])
                if crossesDirectories {
                    try self.moveCharge(db, of: movingInode, from: source.id, to: target.id, enforce: false)
                    try self.moveCharge(db, of: other, from: target.id, to: source.id, enforce: false)
                    if movingInode.kind == .regular { movingInode.parent = target.id }
                    if other.kind == .regular { other.parent = source.id }
                    Self.moveDirectoryLink(of: &movingInode, from: &source, to: &target)
                    Self.moveDirectoryLink(of: &other, from: &target, to: &source)
                }
                other.touchChange(now)
                try db.save(other)
                movingInode.touchChange(now)
                try db.save(movingInode)
                try Self.saveParents(&source, &target, now: now, in: db)
                return nil
            }

            // The replaced name leaves its quotas before the moving one enters (a save over a file
            // in a full directory), all in this one transaction.
            if let replaced = existingInode {
                let (bytes, _) = try self.usage(of: replaced, db)
                try self.charge(db, directory: target.id, bytes: -bytes, files: -1, enforce: false)
            }
            try self.moveCharge(db, of: movingInode, from: source.id, to: target.id)
            var removed: RemovedFile? = nil
            if let existing, var replaced = existingInode {
                switch (movingInode.isDirectory, replaced.isDirectory) {
                case (true, false): throw FileSystemError.notDirectory("cannot replace non-directory \"\(request.newName)\" with a directory")
                case (false, true): throw FileSystemError.isDirectory("cannot replace directory \"\(request.newName)\" with a non-directory")
                case (true, true):
                    guard try !db.hasEntries(replaced.id) else { throw FileSystemError.notEmpty("\"\(request.newName)\" is not empty") }
                    target.linkCount -= 1
                    try db.deleteEntry(id: existing.id)
                    _ = try db.deleteInode(replaced, now: now)
                case (false, false):
                    try db.deleteEntry(id: existing.id)
                    removed = try db.dropLink(of: &replaced, named: request.newName, in: target.id, now: now, keepingOpen: self.openFiles)
                }
                existingInode = nil
            }
            // The entry keeps its row id, so a listing in progress neither loses nor repeats it.
            try db.execute("UPDATE dentry SET parent = ?, name = ? WHERE id = ?", [target.id, request.newName, moving.id])
            if crossesDirectories { Self.moveDirectoryLink(of: &movingInode, from: &source, to: &target) }
            // A regular file remembers the directory it is in, for its quotas' sake.
            if movingInode.kind == .regular { movingInode.parent = target.id }
            movingInode.touchChange(now)
            try db.save(movingInode)
            try Self.saveParents(&source, &target, now: now, in: db)
            return removed
        }
    }

    /// A directory moving between parents takes its ".." link with it.
    static func moveDirectoryLink(of inode: inout InodeRecord, from old: inout InodeRecord, to new: inout InodeRecord) {
        guard inode.isDirectory else { return }
        inode.parent = new.id
        old.linkCount -= 1
        new.linkCount += 1
    }

    static func saveParents(_ source: inout InodeRecord, _ target: inout InodeRecord, now: Int64, in db: any SQLTransaction) throws {
        if source.id == target.id {
            // One directory: only `target` (a copy of `source`) was changed.
            target.touchContent(now)
            try db.save(target)
            return
        }
        source.touchContent(now)
        target.touchContent(now)
        try db.save(source)
        try db.save(target)
    }
}

extension SQLTransaction {
    /// One link less (`name` in `parent` went); the inode goes with its last link, unless the
    /// trash keeps it (a regular file, retention above 0: see `keepInTrash`) or a session has it
    /// open: then it stays, with nlink 0, as an orphan that `reapOrphan` frees after the last
    /// close. A trashed file is no orphan: its close frees nothing, its purge or expiry does.
    func dropLink(
        of record: inout InodeRecord, named name: FileName, in parent: UInt64, now: Int64, keepingOpen openFiles: OpenFileHolds
    ) throws -> RemovedFile? {
        if record.linkCount <= 1, try !keepInTrash(record, from: parent, named: name, now: now) {
            guard record.kind == .regular, openFiles.isOpen(record.id) else { return try deleteInode(record, now: now) }
            openFiles.orphaned(record.id)
        }
        record.linkCount -= 1
        record.touchChange(now)
        try save(record)
        return nil
    }

    /// Whether `inode` has no link left and is not in the trash.
    func isOrphan(_ inode: UInt64) throws -> Bool {
        guard let row = try row("SELECT nlink FROM inode WHERE id = ?", [inode]), row[0] as UInt32 == 0 else { return false }
        return try self.row("SELECT 1 FROM trash WHERE inode = ?", [inode]) == nil
    }

    /// EINVAL when `directory` is `ancestor` or lies below it: a directory cannot move into
    /// its own subtree. Walks ".." links up to the root.
    func requireNotWithin(_ ancestor: UInt64, directory: UInt64) throws {
        var current = directory
        var steps = 0
        while true {
            if current == ancestor {
                throw FileSystemError.invalid("cannot move directory \(ancestor) into its own subtree")
            }
            guard current != SQLMetadataStore.rootInode else { return }
            guard let row = try self.row("SELECT parent FROM inode WHERE id = ?", [current]), let parent = row[0] as UInt64? else {
                throw WireError(.corrupt, "directory \(current) has no parent")
            }
            current = parent
            steps += 1
            if steps > 1_000_000 { throw WireError(.corrupt, "directory parent chain loops at \(current)") }
        }
    }
}
