import GRDB
import RadonWire

extension SQLiteEngine {
    /// The schema, as numbered migrations; a new backend or column is a new migration, never
    /// an edit of an old one. docs/architecture.md ("Metadata service") explains each table.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE inode (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind INTEGER NOT NULL,
                    permissions INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    rdev INTEGER NOT NULL DEFAULT 0,
                    size INTEGER NOT NULL DEFAULT 0,
                    atime INTEGER NOT NULL,
                    mtime INTEGER NOT NULL,
                    ctime INTEGER NOT NULL,
                    nlink INTEGER NOT NULL,
                    generation INTEGER NOT NULL,
                    parent INTEGER,
                    volume_id INTEGER,
                    group_id INTEGER,
                    inline_data BLOB,
                    symlink_target TEXT
                );
                CREATE TABLE dentry (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    parent INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    inode INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX dentry_by_name ON dentry(parent, name);
                CREATE INDEX dentry_by_parent ON dentry(parent);
                CREATE TABLE xattr (
                    inode INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (inode, name)
                ) WITHOUT ROWID;
                CREATE TABLE removed_file (
                    inode INTEGER PRIMARY KEY,
                    volume_id INTEGER NOT NULL,
                    group_id INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    removed_at INTEGER NOT NULL
                );
                CREATE TABLE volume (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    codec TEXT NOT NULL,
                    k INTEGER NOT NULL,
                    n INTEGER NOT NULL,
                    block_size INTEGER NOT NULL,
                    inline_threshold INTEGER NOT NULL,
                    group_count INTEGER NOT NULL,
                    is_default INTEGER NOT NULL
                );
                CREATE TABLE placement_group (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    volume_id INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    epoch INTEGER NOT NULL,
                    members TEXT NOT NULL
                );
                CREATE UNIQUE INDEX placement_group_by_volume ON placement_group(volume_id, idx);
                CREATE TABLE node (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    uuid TEXT NOT NULL UNIQUE,
                    host TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    host_id TEXT NOT NULL,
                    data_dir TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    capacity INTEGER NOT NULL,
                    free INTEGER NOT NULL,
                    fragments INTEGER NOT NULL,
                    state INTEGER NOT NULL,
                    state_since INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL
                );
                CREATE TABLE counter (
                    name TEXT PRIMARY KEY,
                    value INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO counter (name, value) VALUES ('map_epoch', 0);
                """)
            let now = Timestamp.now().totalNanoseconds
            try db.execute(
                sql: """
                    INSERT INTO inode (id, kind, permissions, uid, gid, atime, mtime, ctime, nlink, generation, parent)
                    VALUES (?, ?, ?, 0, 0, ?, ?, ?, 2, 1, ?)
                    """,
                arguments: [SQLMetadataStore.rootInode, InodeKind.directory.rawValue, 0o755, now, now, now, SQLMetadataStore.rootInode]
            )
        }
        // The file system each node's data directory is on (RegisterNodeRequest.fileSystemID):
        // statfs counts a disk several nodes share once. Rows of older databases get '', which
        // counts each such node on its own until it registers again.
        migrator.registerMigration("v2-node-file-system") { db in
            try db.execute(sql: "ALTER TABLE node ADD COLUMN file_system TEXT NOT NULL DEFAULT ''")
        }
        // Names are bytes (FileName), stored as BLOBs: the TEXT names and symlink targets of
        // older databases become BLOBs of the same bytes, so they keep matching lookups (a BLOB
        // never equals a TEXT value). The columns keep their declared TEXT type, which holds
        // BLOBs unchanged; uniqueness per parent is then on the bytes.
        migrator.registerMigration("v3-byte-names") { db in
            try db.execute(sql: """
                UPDATE dentry SET name = CAST(name AS BLOB) WHERE typeof(name) = 'text';
                UPDATE inode SET symlink_target = CAST(symlink_target AS BLOB) WHERE typeof(symlink_target) = 'text';
                """)
        }
        // Orphans (regular files with no link left, kept while a session has them open) are
        // found through this partial index, which holds only them.
        migrator.registerMigration("v4-orphans") { db in
            try db.execute(sql: "CREATE INDEX inode_orphans ON inode(id) WHERE nlink = 0")
        }
        // Which blocks of a file were ever written (bit i: block i), and the bytes they hold
        // within the file's size: st_blocks, so `du` of a sparse file counts only its data.
        migrator.registerMigration("v5-block-map") { db in
            try db.execute(sql: """
                CREATE TABLE block_map (
                    inode INTEGER PRIMARY KEY,
                    bits BLOB NOT NULL,
                    allocated INTEGER NOT NULL
                )
                """)
        }
        // Identified mutations and their replies, for retries (see OperationLog).
        migrator.registerMigration("v6-operation-log") { db in
            try db.execute(sql: OperationLog.schema)
        }
        // Exports: what each client certificate may mount (see `ExportRule`).
        migrator.registerMigration("v7-exports") { db in
            try db.execute(sql: SQLMetadataStore.exportSchema)
        }
        // The trash (`SQLMetadataStore+Trash`): removed files kept for the retention.
        migrator.registerMigration("v8-trash") { db in
            for statement in SQLMetadataStore.trashSchema(nameType: "BLOB") { try db.execute(sql: statement) }
        }
        // Directory quotas (`SQLMetadataStore+Quota`).
        migrator.registerMigration("v9-quota") { db in
            try db.execute(sql: SQLMetadataStore.quotaSchema)
        }
        // A storage node's extra network paths (`RegisterNodeRequest.extraAddresses`).
        migrator.registerMigration("v10-node-paths") { db in
            try db.execute(sql: SQLMetadataStore.nodePathsSchema)
        }
        return migrator
    }

    /// Healing's tables, created on start-up if missing (they are older than numbered
    /// migrations took them in; PostgreSQL has them in its first migration).
    static let healingSchema = [
        """
        CREATE TABLE IF NOT EXISTS healing_job (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL, kind INTEGER NOT NULL, volume_id INTEGER NOT NULL, group_id INTEGER NOT NULL,
            targets TEXT NOT NULL, state INTEGER NOT NULL, worker INTEGER NOT NULL DEFAULT 0,
            cursor INTEGER NOT NULL DEFAULT 0, files_done INTEGER NOT NULL DEFAULT 0,
            bytes_written INTEGER NOT NULL DEFAULT 0, bytes_read INTEGER NOT NULL DEFAULT 0,
            blocks_checked INTEGER NOT NULL DEFAULT 0, found INTEGER NOT NULL DEFAULT 0, fixed INTEGER NOT NULL DEFAULT 0,
            unrecoverable INTEGER NOT NULL DEFAULT 0, rate INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, message TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX IF NOT EXISTS healing_job_state ON healing_job (state, id)",
        "CREATE INDEX IF NOT EXISTS healing_job_run ON healing_job (run_id)",
        """
        CREATE TABLE IF NOT EXISTS repair_entry (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            group_id INTEGER NOT NULL, inode INTEGER NOT NULL, block INTEGER NOT NULL,
            fragments TEXT NOT NULL, recorded_at INTEGER NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS repair_entry_group ON repair_entry (group_id)",
    ]

}
