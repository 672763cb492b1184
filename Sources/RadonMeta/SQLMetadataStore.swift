import RadonWire

/// The metadata store: every POSIX and cluster rule, written once against `SQLTransaction`,
/// over either engine (`SQLiteEngine`, embedded, the default; `PostgresEngine`, shared by
/// active/standby servers).
///
/// Durability and atomicity: each mutating operation runs in its own savepoint inside a
/// group-committed write transaction (`GroupCommitter`); the caller hears back only after that
/// transaction committed durably, so a crash at any instant loses nothing acknowledged.
/// Reads run concurrently in read transactions that see every committed write.
public final class SQLMetadataStore: MetadataStore {
    /// Where the rows live.
    public let engine: any MetadataEngine
    /// Every write goes through it: concurrent operations share one commit and its fsync.
    let committer: GroupCommitter
    /// The clock for file times and liveness; tests replace it.
    let clock: @Sendable () -> Timestamp
    public let openFiles = OpenFileHolds()
    /// Whether any directory quota exists (`SQLMetadataStore+Quota`).
    let quotaPresence = QuotaPresence()

    /// The real-time clock: file times and liveness in production.
    public static let systemClock: @Sendable () -> Timestamp = { Timestamp.now() }

    /// The inline threshold of files created while no volume exists yet.
    static let defaultInlineThreshold: UInt32 = 4096
    /// The root directory's inode number.
    static let rootInode: UInt64 = 1
    /// The most links one inode may have (EMLINK beyond).
    static let maximumLinkCount: UInt32 = 65000

    /// A store over `engine`, whose schema is up to date.
    public init(engine: any MetadataEngine, clock: @escaping @Sendable () -> Timestamp = SQLMetadataStore.systemClock) {
        self.engine = engine
        committer = GroupCommitter(engine: engine)
        self.clock = clock
    }

    /// The embedded store: opens (creating if needed) the SQLite database at `path`.
    public convenience init(
        path: String, durability: SQLiteEngine.Durability = .full,
        clock: @escaping @Sendable () -> Timestamp = SQLMetadataStore.systemClock
    ) throws {
        self.init(engine: try SQLiteEngine(path: path, durability: durability), clock: clock)
    }

    /// The PostgreSQL engine under this store, nil on SQLite: what active/standby election
    /// needs (`PostgresEngine.setFencingEpoch`).
    public var postgresEngine: PostgresEngine? { engine as? PostgresEngine }

    /// Fences this server's writes by `epoch` (nil: no fencing); see
    /// `PostgresEngine.setFencingEpoch`. On SQLite, which one process owns, it does nothing.
    public func setFencingEpoch(_ epoch: Int64?) { engine.setFencingEpoch(epoch) }

    /// The clock now, in the nanoseconds the tables keep.
    func nowNanoseconds() -> Int64 { clock().totalNanoseconds }
}
