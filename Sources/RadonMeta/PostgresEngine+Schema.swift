import RadonWire

extension PostgresEngine {
    /// One numbered step of the PostgreSQL schema. A new table or column is a new migration,
    /// never an edit of an old one. The tables mirror SQLite's (docs/architecture.md,
    /// "Metadata service"), typed for PostgreSQL: integers BIGINT, ids BIGSERIAL (never
    /// reused, as SQLite's AUTOINCREMENT), names and bytes BYTEA (compared byte for byte),
    /// other text `COLLATE "C"` (ordered by bytes, as SQLite orders it).
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The advisory lock two servers starting at once serialize their migrations on.
    static let migrationLock: Int64 = 0x5261_646F_6E46_53  // "RadonFS"

    static let migrations: [Migration] = [
        Migration(version: 1, name: "initial", statements: [
            """
            CREATE TABLE inode (
                id BIGSERIAL PRIMARY KEY, kind BIGINT NOT NULL, permissions BIGINT NOT NULL,
                uid BIGINT NOT NULL, gid BIGINT NOT NULL, rdev BIGINT NOT NULL DEFAULT 0, size BIGINT NOT NULL DEFAULT 0,
                atime BIGINT NOT NULL, mtime BIGINT NOT NULL, ctime BIGINT NOT NULL, nlink BIGINT NOT NULL,
                generation BIGINT NOT NULL, parent BIGINT, volume_id BIGINT, group_id BIGINT,
                inline_data BYTEA, symlink_target BYTEA
            )
            """,
            "CREATE INDEX inode_orphans ON inode (id) WHERE nlink = 0",
            "CREATE TABLE dentry (id BIGSERIAL PRIMARY KEY, parent BIGINT NOT NULL, name BYTEA NOT NULL, inode BIGINT NOT NULL)",
            "CREATE UNIQUE INDEX dentry_by_name ON dentry (parent, name)",
            // Listings read a directory's entries in id order (the readdir cookie).
            "CREATE INDEX dentry_by_parent ON dentry (parent, id)",
            """
            CREATE TABLE xattr (
                inode BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL, value BYTEA NOT NULL, PRIMARY KEY (inode, name)
            )
            """,
            """
            CREATE TABLE removed_file (
                inode BIGINT PRIMARY KEY, volume_id BIGINT NOT NULL, group_id BIGINT NOT NULL,
                size BIGINT NOT NULL, removed_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE volume (
                id BIGSERIAL PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, codec TEXT NOT NULL,
                k BIGINT NOT NULL, n BIGINT NOT NULL, block_size BIGINT NOT NULL, inline_threshold BIGINT NOT NULL,
                group_count BIGINT NOT NULL, is_default BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE placement_group (
                id BIGSERIAL PRIMARY KEY, volume_id BIGINT NOT NULL, idx BIGINT NOT NULL, epoch BIGINT NOT NULL,
                members TEXT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX placement_group_by_volume ON placement_group (volume_id, idx)",
            """
            CREATE TABLE node (
                id BIGSERIAL PRIMARY KEY, uuid TEXT COLLATE "C" NOT NULL UNIQUE, host TEXT NOT NULL, port BIGINT NOT NULL,
                host_id TEXT NOT NULL, data_dir TEXT NOT NULL, pid BIGINT NOT NULL, capacity BIGINT NOT NULL,
                free BIGINT NOT NULL, fragments BIGINT NOT NULL, state BIGINT NOT NULL, state_since BIGINT NOT NULL,
                last_seen BIGINT NOT NULL, file_system TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE TABLE counter (name TEXT COLLATE \"C\" PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO counter (name, value) VALUES ('map_epoch', 0)",
            "CREATE TABLE block_map (inode BIGINT PRIMARY KEY, bits BYTEA NOT NULL, allocated BIGINT NOT NULL)",
            """
            CREATE TABLE healing_job (
                id BIGSERIAL PRIMARY KEY,
                run_id BIGINT NOT NULL, kind BIGINT NOT NULL, volume_id BIGINT NOT NULL, group_id BIGINT NOT NULL,
                targets TEXT NOT NULL, state BIGINT NOT NULL, worker BIGINT NOT NULL DEFAULT 0,
                cursor BIGINT NOT NULL DEFAULT 0, files_done BIGINT NOT NULL DEFAULT 0,
                bytes_written BIGINT NOT NULL DEFAULT 0, bytes_read BIGINT NOT NULL DEFAULT 0,
                blocks_checked BIGINT NOT NULL DEFAULT 0, found BIGINT NOT NULL DEFAULT 0, fixed BIGINT NOT NULL DEFAULT 0,
                unrecoverable BIGINT NOT NULL DEFAULT 0, rate BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, message TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX healing_job_state ON healing_job (state, id)",
            "CREATE INDEX healing_job_run ON healing_job (run_id)",
            """
            CREATE TABLE repair_entry (
                id BIGSERIAL PRIMARY KEY, group_id BIGINT NOT NULL, inode BIGINT NOT NULL, block BIGINT NOT NULL,
                fragments TEXT NOT NULL, recorded_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX repair_entry_group ON repair_entry (group_id)",
            // Active/standby: the leader's epoch; no row until the first election. The election
            // (`MetaLeadership.createTable`) may have made it first, with the same columns.
            """
            CREATE TABLE IF NOT EXISTS meta_leader (
                id INTEGER PRIMARY KEY CHECK (id = 1), epoch BIGINT NOT NULL, holder TEXT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL
            )
            """,
        ]),
        // Identified mutations and their replies, for retries (see OperationLog).
        Migration(version: 2, name: "operation-log", statements: [
            """
            CREATE TABLE operation_log (
                client_id BIGINT NOT NULL, sequence BIGINT NOT NULL, reply BYTEA NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (client_id, sequence)
            )
            """,
            "CREATE INDEX operation_log_by_age ON operation_log (created_at)",
        ]),
        // The write transactions' guard and fence in one statement (see `LeaderFence.check`).
        Migration(version: 3, name: "write-guard", statements: [LeaderFence.guardFunction]),
        // Exports: what each client certificate may mount (see `ExportRule`).
        Migration(version: 4, name: "exports", statements: [SQLMetadataStore.exportSchema]),
        // The trash (`SQLMetadataStore+Trash`): removed files kept for the retention.
        Migration(version: 5, name: "trash", statements: SQLMetadataStore.trashSchema(nameType: "BYTEA")),
        Migration(version: 6, name: "quota", statements: [SQLMetadataStore.quotaSchema]),
        // A storage node's extra network paths (`RegisterNodeRequest.extraAddresses`).
        Migration(version: 7, name: "node-paths", statements: [SQLMetadataStore.nodePathsSchema]),
    ]

    /// Brings the schema up to date, once, however many servers start at the same time: the
    /// whole migration is one transaction under an advisory lock, and applied versions are
    /// recorded in `schema_migration` in that same transaction. The root directory (inode 1,
    /// the sequence's first value) is made with the schema.
    func migrate() throws {
        try inWriteConnection(prepares: false) { transaction in
            try transaction.execute("SELECT pg_advisory_xact_lock(?)", [Self.migrationLock])
            try transaction.execute("""
                CREATE TABLE IF NOT EXISTS schema_migration (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
            let applied = Set(try transaction.rows("SELECT version FROM schema_migration").map { $0[0] as Int })
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try transaction.execute(statement) }
                if migration.version == 1 { try Self.makeRoot(in: transaction) }
                try transaction.execute("INSERT INTO schema_migration (version, name) VALUES (?, ?)", [migration.version, migration.name])
                logger.notice("PostgreSQL schema migrated", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    }

    static func makeRoot(in transaction: any SQLTransaction) throws {
        let now = Timestamp.now().totalNanoseconds
        let root = try transaction.row(
            """
            INSERT INTO inode (kind, permissions, uid, gid, atime, mtime, ctime, nlink, generation, parent)
            VALUES (?, ?, 0, 0, ?, ?, ?, 2, 1, ?) RETURNING id
            """,
            [InodeKind.directory.rawValue, 0o755, now, now, now, SQLMetadataStore.rootInode]
        )
        guard let root, root[0] as UInt64 == SQLMetadataStore.rootInode else {
            throw WireError(.corrupt, "the root directory of a new PostgreSQL schema is not inode \(SQLMetadataStore.rootInode)")
        }
    }
}
