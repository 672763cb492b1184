import GRDB
import RadonWire

/// The embedded metadata store: one SQLite database file through GRDB.
///
/// Durability: the database runs in WAL mode with `synchronous = FULL`, so every committed
/// transaction has its WAL frames fsync'd before `write` returns; each operation is
/// atomic (its own savepoint), the service answers only after its transaction committed, and
/// a SIGKILL at any instant therefore loses nothing acknowledged. Writes are serialized by
/// GRDB's writer and grouped by `GroupCommitter` (concurrent operations share a commit); reads
/// run concurrently on the pool's reader connections, which see every committed write.
public final class SQLiteMetadataStore: MetadataStore {
    let database: DatabasePool
    /// Every write goes through it: concurrent operations share one commit and its fsync.
    let committer: GroupCommitter
    /// The clock for file times and liveness; tests replace it.
    let clock: @Sendable () -> Timestamp
    public let openFiles = OpenFileHolds()

    /// The real-time clock: file times and liveness in production.
    public static let systemClock: @Sendable () -> Timestamp = { Timestamp.now() }

    /// The inline threshold of files created while no volume exists yet.
    static let defaultInlineThreshold: UInt32 = 4096
    /// The root directory's inode number.
    static let rootInode: UInt64 = 1
    /// The most links one inode may have (EMLINK beyond).
    static let maximumLinkCount: UInt32 = 65000

    /// How hard a commit presses its changes to disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous = FULL`: every commit fsyncs the WAL; nothing acknowledged is lost
        /// even to a power cut or kernel crash. The default.
        case full
        /// `synchronous = NORMAL`: commits reach the WAL in the page cache without fsync
        /// (fsync at checkpoints). Nothing acknowledged is lost when the service is killed
        /// (SIGKILL included); an OS crash or power cut may lose the last commits.
        case normal
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(
        path: String, durability: Durability = .full,
        clock: @escaping @Sendable () -> Timestamp = SQLiteMetadataStore.systemClock
    ) throws {
        var configuration = Configuration()
        configuration.label = "radonfs-meta"
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        committer = GroupCommitter(database: database)
        self.clock = clock
        try Self.migrator.migrate(database)
    }

    /// The clock now, in the nanoseconds the tables keep.
    func nowNanoseconds() -> Int64 { clock().totalNanoseconds }
}

extension Database {
    /// One row through the connection's statement cache: hot paths compile their SQL once.
    func cachedRow(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedRows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedExecute(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
