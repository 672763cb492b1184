import Foundation
import NIOCore
import RadonWire

/// An identified mutation as the committer sees it: its id, and whether an earlier attempt may
/// have committed (only a retry's can; a first attempt skips the log's lookup).
struct LoggedRequest: Sendable {
    var identity: MetaRequestIdentity
    var isRetry: Bool
}

/// The operation log: which identified mutations committed, and the reply each had, so a
/// client's retry of one (after a lost reply, a restart or a failover) gets that reply again
/// instead of a second run (a retried create must not answer EEXIST, a retried rename ENOENT,
/// a retried clearInline must still return the bytes).
///
/// Invariant: a row is written in the same transaction (the operation's savepoint) as the
/// mutation it stands for, so either both are durable or neither is. Rows older than
/// `retention` are trimmed: a client retries for `--meta-timeout` (60 s by default) at most.
///
/// Only plain SQL that SQLite and PostgreSQL both accept is used here (ON CONFLICT, no
/// INSERT OR REPLACE), so another engine can run these statements as they are. The table
/// (SQLite migration `v6-operation-log`, PostgreSQL migration 2 with BIGINT and BYTEA):
/// `operation_log(client_id INTEGER, sequence INTEGER, reply BLOB, created_at INTEGER,
/// PRIMARY KEY (client_id, sequence))`; ids are stored as the bit patterns of signed 64-bit
/// integers, `created_at` in nanoseconds since the epoch.
enum OperationLog {
    /// How long a committed request's reply is kept for its retries.
    static let retention: Duration = .seconds(600)

    /// The mutation the current task runs (set by `MetaService` for an `identified` request,
    /// read by `GroupCommitter.write`). A request makes at most one committer write, so its id
    /// stands for exactly one transaction.
    @TaskLocal static var request: LoggedRequest?

    static func storedReply(for identity: MetaRequestIdentity, in db: any SQLTransaction) throws -> [UInt8]? {
        try db.row("SELECT reply FROM operation_log WHERE client_id = ? AND sequence = ?",
                   [Int64(bitPattern: identity.client), Int64(bitPattern: identity.sequence)])
            .map { row in [UInt8](row[0] as Data) }
    }

    static func store(_ reply: [UInt8], for identity: MetaRequestIdentity, now: Int64, in db: any SQLTransaction) throws {
        try db.execute("""
            INSERT INTO operation_log (client_id, sequence, reply, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (client_id, sequence) DO NOTHING
            """, [Int64(bitPattern: identity.client), Int64(bitPattern: identity.sequence), Data(reply), now])
    }

    /// Deletes the rows written before `cutoff` (nanoseconds since the epoch); how many went.
    static func trim(before cutoff: Int64, in db: any SQLTransaction) throws -> Int {
        try db.changes("DELETE FROM operation_log WHERE created_at < ?", [cutoff])
    }

    /// The table, for the migration.
    static let schema = """
        CREATE TABLE operation_log (
            client_id INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            reply BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (client_id, sequence)
        );
        CREATE INDEX operation_log_by_age ON operation_log(created_at);
        """
}

/// How one kind of committer result is kept in the operation log. The results of every
/// logged mutation conform (`Void` results are handled by `OperationLogCoding` itself).
protocol OperationLogReply: Sendable {
    var operationLogBytes: [UInt8] { get }
    init(operationLogBytes: [UInt8]) throws
}

extension OperationLogReply where Self: WireMessage {
    var operationLogBytes: [UInt8] {
        let buffer = encoded()
        return buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }

    init(operationLogBytes bytes: [UInt8]) throws {
        try self.init(decoding: ByteBuffer(bytes: bytes))
    }
}

extension InodeAttributes: OperationLogReply {}
extension CreateReply: OperationLogReply {}
extension WriteInlineReply: OperationLogReply {}
extension InlineDataReply: OperationLogReply {}
extension VolumeSettings: OperationLogReply {}
extension PlacementGroup: OperationLogReply {}

extension Optional: OperationLogReply where Wrapped == RemovedFile {
    var operationLogBytes: [UInt8] { RemovalReply(removed: self).operationLogBytes }
    init(operationLogBytes bytes: [UInt8]) throws {
        self = try RemovalReply(operationLogBytes: bytes).removed
    }
}

extension RemovalReply: OperationLogReply {}
extension TrashRestoreReply: OperationLogReply {}
extension TrashPurgeReply: OperationLogReply {}

/// Encoding and decoding of one committer result type for the log; nil for types that are
/// not logged (the operation then just runs).
struct OperationLogCoding<Value: Sendable>: Sendable {
    let encode: @Sendable (Value) -> [UInt8]
    let decode: @Sendable ([UInt8]) throws -> Value

    init?() {
        if Value.self == Void.self {
            encode = { _ in [] }
            decode = { _ in () as! Value }
        } else if let type = Value.self as? any OperationLogReply.Type {
            encode = { value in (value as! any OperationLogReply).operationLogBytes }
            decode = { bytes in try type.init(operationLogBytes: bytes) as! Value }
        } else {
            return nil
        }
    }
}

extension SQLMetadataStore {
    public func trimOperationLog(before cutoff: Int64) async throws -> Int {
        try await committer.write { db in try OperationLog.trim(before: cutoff, in: db) }
    }
}
