import RadonWire

/// Exports (`ExportRule`): one row per client name in `client_export`, and the subtree test the
/// service makes for a client that may see only part of the namespace.
extension SQLMetadataStore {
    /// The same text for both engines: BIGINT is an integer to SQLite, TEXT compares bytes in
    /// both (names are certificate common names).
    static let exportSchema = """
        CREATE TABLE client_export (
            name TEXT PRIMARY KEY, path TEXT NOT NULL, root BIGINT NOT NULL, read_only BIGINT NOT NULL,
            squash BIGINT NOT NULL, anonymous_uid BIGINT NOT NULL, anonymous_gid BIGINT NOT NULL,
            uid_low BIGINT, uid_high BIGINT
        )
        """
    static let exportColumns = "name, path, root, read_only, squash, anonymous_uid, anonymous_gid, uid_low, uid_high"

    public func exports() async throws -> [ExportRule] {
        try await engine.rows("SELECT \(Self.exportColumns) FROM client_export ORDER BY name", []).map { row in
            let low: UInt32? = row[7]
            let high: UInt32? = row[8]
            return ExportRule(
                name: row[0], path: row[1], root: row[2], readOnly: row[3],
                squash: ExportSquash(rawValue: row[4]) ?? .all, anonymousUID: row[5], anonymousGID: row[6],
                allowedUIDs: low.flatMap { low in high.map { low...max(low, $0) } }
            )
        }
    }

    /// Adds or replaces the export of `rule.name`; `rule.root` must be a directory. The first
    /// export of a subtree builds the index from inodes to their names (`dentry_by_inode`)
    /// that `isWithin` walks up: a file system exported only whole never pays for it on create.
    public func saveExport(_ rule: ExportRule) async throws {
        try await committer.write { db in
            guard try db.inode(rule.root).kind == .directory else {
                throw FileSystemError.notDirectory("export root \(rule.path) is not a directory")
            }
            if rule.root != Self.rootInode {
                try db.execute("CREATE INDEX IF NOT EXISTS dentry_by_inode ON dentry (inode)")
            }
            try db.execute(
                """
                INSERT INTO client_export (\(Self.exportColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET path = excluded.path, root = excluded.root, read_only = excluded.read_only,
                    squash = excluded.squash, anonymous_uid = excluded.anonymous_uid, anonymous_gid = excluded.anonymous_gid,
                    uid_low = excluded.uid_low, uid_high = excluded.uid_high
                """,
                [rule.name, rule.path, rule.root, rule.readOnly, rule.squash.rawValue, rule.anonymousUID, rule.anonymousGID,
                 rule.allowedUIDs?.lowerBound, rule.allowedUIDs?.upperBound]
            )
        }
    }

    public func removeExport(named name: String) async throws -> Bool {
        try await committer.write { db in
            try db.row("DELETE FROM client_export WHERE name = ? RETURNING name", [name]) != nil
        }
    }

    /// One statement walks up every name `inode` has (a file may have several, a directory has
    /// one) until it meets `root` or runs out at the file system's root. UNION keeps each
    /// ancestor once, so even a corrupt cycle ends.
    public func isWithin(_ inode: UInt64, subtree root: UInt64) async throws -> Bool {
        if inode == root || root == Self.rootInode { return true }
        let rows = try await engine.rows(
            """
            WITH RECURSIVE above(id) AS (
                SELECT parent FROM dentry WHERE inode = ?
                UNION
                SELECT dentry.parent FROM dentry JOIN above ON dentry.inode = above.id WHERE above.id <> ?
            )
            SELECT 1 FROM above WHERE id = ? LIMIT 1
            """,
            [inode, root, root]
        )
        return !rows.isEmpty
    }
}
