#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RadonWire
import Synchronization

/// Directory quotas (issue 14), as CephFS, JuiceFS and MooseFS keep them: a `quota` row per
/// directory with limits, and the usage of its subtree kept up to date by every operation that
/// adds or removes a name or changes a file's size (`charge`). A change that would take any
/// quota above the directory past its limit fails with EDQUOT; shrinking always goes through.
///
/// What counts (`DirectoryQuota`): every name below the directory (files, directories, symbolic
/// links) as one file, and regular files' sizes as bytes (a file is charged to the directory of
/// one of its names). A file that loses its last name (into the trash, or open and unlinked)
/// leaves the quota. Usage is counted afresh from the tree whenever a quota is set.
///
/// Invariant: with no quota row anywhere (`QuotaPresence` says so, loaded once per store) no
/// operation pays anything for quotas.
extension SQLMetadataStore {
    static let quotaSchema = """
        CREATE TABLE quota (
            inode BIGINT PRIMARY KEY, max_bytes BIGINT NOT NULL, max_files BIGINT NOT NULL,
            used_bytes BIGINT NOT NULL, used_files BIGINT NOT NULL
        )
        """

    /// The quotas on `directory` and every directory above it, nearest first.
    static let quotasAbove = """
        WITH RECURSIVE up(id, depth) AS (
            SELECT id, 0 FROM inode WHERE id = ?
            UNION ALL
            SELECT i.parent, up.depth + 1 FROM up JOIN inode i ON i.id = up.id
            WHERE i.parent IS NOT NULL AND i.parent <> i.id AND up.depth < 100000
        )
        SELECT q.inode, q.max_bytes, q.max_files, q.used_bytes, q.used_files FROM quota q JOIN up ON q.inode = up.id ORDER BY up.depth
        """

    /// Names below a directory and the bytes of the regular files among them.
    static let subtreeUsage = """
        WITH RECURSIVE below(inode) AS (
            SELECT inode FROM dentry WHERE parent = ?
            UNION ALL
            SELECT d.inode FROM below b JOIN dentry d ON d.parent = b.inode
        )
        SELECT count(*), CAST(COALESCE(sum(CASE WHEN i.kind = \(InodeKind.regular.rawValue) THEN i.size ELSE 0 END), 0) AS BIGINT)
        FROM below b JOIN inode i ON i.id = b.inode
        """

    /// Sets `parent` on the regular files below a directory that have none.
    static let rememberParents = """
        WITH RECURSIVE below(parent, inode) AS (
            SELECT parent, inode FROM dentry WHERE parent = ?
            UNION ALL
            SELECT d.parent, d.inode FROM below b JOIN dentry d ON d.parent = b.inode
        )
        UPDATE inode SET parent = (SELECT b.parent FROM below b WHERE b.inode = inode.id LIMIT 1)
        WHERE parent IS NULL AND kind = \(InodeKind.regular.rawValue) AND id IN (SELECT inode FROM below)
        """

    static func quota(from row: SQLRow) -> DirectoryQuota {
        DirectoryQuota(inode: row[0], maximumBytes: row[1], maximumFiles: row[2], usedBytes: row[3], usedFiles: row[4])
    }

    /// Whether any quota exists, asking the database the first time.
    func quotasExist(_ db: any SQLTransaction) throws -> Bool {
        if let known = quotaPresence.known { return known }
        let exists = try db.row("SELECT 1 FROM quota LIMIT 1") != nil
        quotaPresence.record(exists)
        return exists
    }

    /// Adds `bytes` and `files` (either may be negative) to every quota above `directory`
    /// (itself included); with `enforce`, growth past a limit throws EDQUOT instead.
    func charge(_ db: any SQLTransaction, directory: UInt64, bytes: Int64, files: Int64, enforce: Bool = true) throws {
        guard bytes != 0 || files != 0, try quotasExist(db) else { return }
        try add(bytes: bytes, files: files, to: try db.rows(Self.quotasAbove, [directory]).map(Self.quota(from:)), enforce: enforce, db)
    }

    /// Adds to the usage of `quotas`; with `enforce`, first throws EDQUOT when growth would take
    /// one past its limit (nothing is changed then). Usage never goes below 0.
    private func add(bytes: Int64, files: Int64, to quotas: [DirectoryQuota], enforce: Bool, _ db: any SQLTransaction) throws {
        if enforce {
            for quota in quotas {
                if bytes > 0, quota.maximumBytes > 0, quota.usedBytes &+ UInt64(bytes) > quota.maximumBytes {
                    throw FileSystemError(EDQUOT, "directory \(quota.inode)'s quota of \(quota.maximumBytes) bytes has no room (\(quota.usedBytes) used)")
                }
                if files > 0, quota.maximumFiles > 0, quota.usedFiles &+ UInt64(files) > quota.maximumFiles {
                    throw FileSystemError(EDQUOT, "directory \(quota.inode)'s quota of \(quota.maximumFiles) files has no room")
                }
            }
        }
        for quota in quotas {
            try db.execute(
                """
                UPDATE quota SET used_bytes = CASE WHEN used_bytes + ? < 0 THEN 0 ELSE used_bytes + ? END,
                    used_files = CASE WHEN used_files + ? < 0 THEN 0 ELSE used_files + ? END WHERE inode = ?
                """, [bytes, bytes, files, files, quota.inode])
        }
    }

    /// `charge` for a size change of file `record`, to the directory it was created in (or
    /// last renamed into: `parent`, kept for regular files too). A file with no name left (in
    /// the trash, or unlinked while open) is under no quota.
    func chargeSize(_ db: any SQLTransaction, of record: InodeRecord, to newSize: UInt64, enforce: Bool = true) throws {
        guard record.size != newSize, record.linkCount > 0, let directory = record.parent, try quotasExist(db) else { return }
        let delta = newSize > record.size ? Int64(clamping: newSize - record.size) : -Int64(clamping: record.size - newSize)
        try charge(db, directory: directory, bytes: delta, files: 0, enforce: enforce)
    }

    /// What the name of `record` holds: one file, its size if regular, and for a directory its
    /// whole subtree.
    func usage(of record: InodeRecord, _ db: any SQLTransaction) throws -> (bytes: Int64, files: Int64) {
        switch record.kind {
        case .regular: return (Int64(clamping: record.size), 1)
        case .directory:
            guard let row = try db.row(Self.subtreeUsage, [record.id]) else { return (0, 1) }
            let files: Int64 = row[0]
            let bytes: Int64 = row[1]
            return (bytes, files + 1)
        default: return (0, 1)
        }
    }

    /// Moves `record`'s usage from the quotas above `old` to those above `new` (a rename): the
    /// quotas above both do not change; growth of the others is enforced.
    func moveCharge(_ db: any SQLTransaction, of record: InodeRecord, from old: UInt64, to new: UInt64, enforce: Bool = true) throws {
        guard old != new, try quotasExist(db) else { return }
        let before = try db.rows(Self.quotasAbove, [old]).map(Self.quota(from:))
        let after = try db.rows(Self.quotasAbove, [new]).map(Self.quota(from:))
        let leaving = before.filter { quota in !after.contains { $0.inode == quota.inode } }
        let entering = after.filter { quota in !before.contains { $0.inode == quota.inode } }
        guard !leaving.isEmpty || !entering.isEmpty else { return }
        let (bytes, files) = try usage(of: record, db)
        try add(bytes: bytes, files: files, to: entering, enforce: enforce, db)
        try add(bytes: -bytes, files: -files, to: leaving, enforce: false, db)
    }

    // MARK: Requests

    /// Sets (or, with both limits 0, removes) a directory's quota, its usage counted afresh.
    public func setQuota(_ request: QuotaSetRequest) async throws -> [DirectoryQuota] {
        let presence = quotaPresence
        return try await committer.write { db in
            let record = try db.directory(request.inode)
            guard request.maximumBytes > 0 || request.maximumFiles > 0 else {
                try db.execute("DELETE FROM quota WHERE inode = ?", [record.id])
                return []
            }
            let (bytes, files) = try self.usage(of: record, db)
            // Files made before their directory was remembered in `parent` (as it is now for
            // every new file) get it, so their growth is charged.
            try db.execute(Self.rememberParents, [record.id])
            try db.execute(
                """
                INSERT INTO quota (inode, max_bytes, max_files, used_bytes, used_files) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (inode) DO UPDATE SET max_bytes = excluded.max_bytes, max_files = excluded.max_files,
                    used_bytes = excluded.used_bytes, used_files = excluded.used_files
                """, [record.id, Int64(clamping: request.maximumBytes), Int64(clamping: request.maximumFiles), bytes, files - 1])
            presence.record(true)
            return try db.rows("SELECT inode, max_bytes, max_files, used_bytes, used_files FROM quota WHERE inode = ?", [record.id]).map(Self.quota(from:))
        }
    }

    /// Every quota (`inode` 0) or the one on `inode`.
    public func quotas(of inode: UInt64) async throws -> [DirectoryQuota] {
        try await engine.read { db in
            let columns = "SELECT inode, max_bytes, max_files, used_bytes, used_files FROM quota"
            let quotas = inode == 0
                ? try db.rows(columns + " ORDER BY inode").map(Self.quota(from:))
                : try db.rows(columns + " WHERE inode = ?", [inode]).map(Self.quota(from:))
            return try quotas.map { quota in
                var named = quota
                named.path = try db.path(ofDirectory: quota.inode) ?? ""
                return named
            }
        }
    }

    /// What file `inode` may still grow by: the least room of the byte quotas above it.
    public func quotaHeadroom(of inode: UInt64) async throws -> UInt64 {
        try await engine.read { db in try self.headroom(of: inode, db) ?? .max }
    }

    /// nil when no byte quota is above `inode`'s directory.
    func headroom(of inode: UInt64, _ db: any SQLTransaction) throws -> UInt64? {
        guard try quotasExist(db) else { return nil }
        guard let row = try db.row("SELECT parent, nlink FROM inode WHERE id = ?", [inode]), let directory = row[0] as UInt64?,
              (row[1] as UInt32) > 0 else { return nil }
        let limited = try db.rows(Self.quotasAbove, [directory]).map(Self.quota(from:)).filter { $0.maximumBytes > 0 }
        return limited.map(\.bytesLeft).min()
    }

    /// The statistics as seen from `directory`: its nearest byte quota stands for the size and
    /// its nearest file quota for the inode count (`df` on a mount of it).
    public func statistics(of directory: UInt64) async throws -> FileSystemStatistics {
        var statistics = try await statistics()
        if quotaPresence.known == false { return statistics }
        let quotas = try await engine.read { db in
            try self.quotasExist(db) ? try db.rows(Self.quotasAbove, [directory]).map(Self.quota(from:)) : []
        }
        let block = UInt64(statistics.blockSize)
        if let bytes = quotas.first(where: { $0.maximumBytes > 0 }) {
            let left = bytes.bytesLeft / block
            statistics.totalBlocks = bytes.maximumBytes / block
            statistics.freeBlocks = min(statistics.freeBlocks, left)
            statistics.availableBlocks = min(statistics.availableBlocks, left)
        }
        if let files = quotas.first(where: { $0.maximumFiles > 0 }) {
            statistics.totalInodes = files.maximumFiles
            statistics.freeInodes = min(statistics.freeInodes, files.maximumFiles - min(files.usedFiles, files.maximumFiles))
        }
        return statistics
    }
}

/// Whether the store's database has any quota: unknown until first asked, then kept (this
/// server is the only writer while it is active; a new term opens a new store). A `Mutex`, read
/// inside write transactions.
final class QuotaPresence: Sendable {
    private let state = Mutex<Bool?>(nil)

    var known: Bool? { state.withLock { $0 } }

    func record(_ exists: Bool) { state.withLock { $0 = exists } }
}
