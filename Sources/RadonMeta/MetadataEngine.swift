/// A database the metadata store runs on: SQLite (embedded, the default) or PostgreSQL (shared
/// by active and standby servers). The store's logic is written once against `SQLTransaction`;
/// an engine only opens transactions.
///
/// Invariants every engine keeps: a `read` sees every write batch that finished before it
/// started, and one consistent snapshot throughout; `writeBatch` runs its body in one
/// transaction and returns only once that transaction is durably committed (it throws,
/// having committed nothing, when the body or the commit fails). Write batches never overlap:
/// `GroupCommitter` is their only caller and runs one at a time.
public protocol MetadataEngine: Sendable {
    /// Runs `body` in a read-only transaction.
    func read<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> Value) async throws -> Value
    /// Runs one read-only statement and returns its rows. One statement sees one snapshot on
    /// every engine, so it needs no transaction around it: PostgreSQL runs it alone (one round
    /// trip, not the three of BEGIN, the statement and COMMIT). For the hottest reads, lookup
    /// and getattr, written as one statement each.
    func rows(_ sql: String, _ arguments: SQLArguments) async throws -> [SQLRow]
    /// Runs `body` in one durable write transaction (see the invariants above).
    func writeBatch(_ body: @escaping @Sendable (any SQLTransaction) throws -> Void) async throws
    /// The fencing epoch for active/standby servers (see `PostgresEngine.setFencingEpoch`);
    /// an engine one process owns alone (SQLite) has nobody to fence and ignores it.
    func setFencingEpoch(_ epoch: Int64?)
    /// Releases connections and threads; the engine is not used afterwards.
    func shutdown() async
}

extension MetadataEngine {
    public func rows(_ sql: String, _ arguments: SQLArguments) async throws -> [SQLRow] {
        try await read { db in try db.rows(sql, arguments) }
    }
}
