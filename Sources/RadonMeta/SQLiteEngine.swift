import Foundation
import GRDB

/// The embedded engine: one SQLite database file through GRDB.
///
/// Durability: the database runs in WAL mode with `synchronous = FULL`, so every committed
/// transaction has its WAL frames fsync'd before `writeBatch` returns, and a SIGKILL at any
/// instant loses nothing acknowledged. Writes are serialized by GRDB's writer; reads run
/// concurrently on the pool's reader connections, which see every committed write.
///
/// Both run on the calling thread (GRDB's synchronous `read` and `write`, whose serial queues
/// run a block in place when they are free), not through GRDB's asynchronous calls, which hop
/// to a dispatch thread and back. A read is tens of microseconds of CPU, less than the two
/// thread wake-ups the hop costs; a write batch holds its thread through its fsync, and at most
/// one does (`GroupCommitter` runs one batch at a time), so the other threads keep serving. In
/// `radonfs meta` those threads are NIO's event loops (`RadonFSCommand.runsTasksOnEventLoops`):
/// while one loop waits for a commit, the requests read on the others queue for the next batch.
public final class SQLiteEngine: MetadataEngine {
    let database: DatabasePool

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
    public init(path: String, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.label = "radonfs-meta"
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        try database.write { db in
            for statement in Self.healingSchema { try db.execute(sql: statement) }
        }
    }

    public func read<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> Value) async throws -> Value {
        try readOnCallingThread(body)
    }

    public func writeBatch(_ body: @escaping @Sendable (any SQLTransaction) throws -> Void) async throws {
        try writeOnCallingThread(body)
    }

    /// These two are synchronous, so they call GRDB's blocking `read` and `write`, not the
    /// `async` overloads an async caller would get.
    private func readOnCallingThread<Value>(_ body: (any SQLTransaction) throws -> Value) throws -> Value {
        try database.read { db in try body(SQLiteTransaction(db: db)) }
    }

    private func writeOnCallingThread(_ body: (any SQLTransaction) throws -> Void) throws {
        try database.write { db in try body(SQLiteTransaction(db: db)) }
    }

    /// One process owns a SQLite file: there is no other server to fence off.
    public func setFencingEpoch(_ epoch: Int64?) {}

    public func shutdown() async {}
}

/// A GRDB connection inside `read` or `write`. Every statement goes through the connection's
/// statement cache, so hot paths compile their SQL once.
struct SQLiteTransaction: SQLTransaction {
    let db: Database

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments))
        var rows: [SQLRow] = []
        while let row = try cursor.next() { rows.append(Self.row(row)) }
        return rows
    }

    func row(_ sql: String, _ arguments: SQLArguments) throws -> SQLRow? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments)).map(Self.row)
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    }

    func changes(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try execute(sql, arguments)
        return db.changesCount
    }

    func inSavepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .integer(let integer): integer.databaseValue
            case .real(let real): real.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let bytes): Data(bytes).databaseValue
            }
        })
    }

    static func row(_ row: Row) -> SQLRow {
        SQLRow(row.databaseValues.map { value -> SQLValue in
            switch value.storage {
            case .null: .null
            case .int64(let integer): .integer(integer)
            case .double(let real): .real(real)
            case .string(let text): .text(text)
            case .blob(let data): .blob([UInt8](data))
            }
        })
    }
}
