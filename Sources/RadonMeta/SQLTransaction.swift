/// One open transaction of a metadata engine, as the store's logic sees it: synchronous
/// statements on the connection the engine lent it, for the length of one `read` or one
/// write batch. Never kept beyond the closure it was passed to.
///
/// The SQL is what both engines accept: `?` placeholders (`?N` for the N-th argument),
/// `ON CONFLICT ... DO UPDATE` rather than `INSERT OR REPLACE`, `RETURNING id` rather than a
/// last-inserted row id, `CASE` rather than SQLite's two-argument `min`/`max`.
public protocol SQLTransaction {
    /// The rows of a query.
    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow]
    /// The first row of a query, nil when there is none.
    func row(_ sql: String, _ arguments: SQLArguments) throws -> SQLRow?
    /// Runs a statement whose result nobody reads. An engine may send it without waiting for
    /// the answer (PostgreSQL pipelines it): a failure is thrown by a later statement, and no
    /// later than the end of the enclosing savepoint or transaction, which it then undoes.
    func execute(_ sql: String, _ arguments: SQLArguments) throws
    /// Runs a statement and returns how many rows it changed (it waits for the answer).
    func changes(_ sql: String, _ arguments: SQLArguments) throws -> Int
    /// Runs `body` in a savepoint: its changes stay when it returns and are undone when it
    /// throws (the error is rethrown); the transaction goes on either way.
    func inSavepoint(_ body: () throws -> Void) throws
    /// Starts a query that the caller is about to run with `row` or `rows` (same text, same
    /// arguments) before any statement that writes: an engine behind a network (PostgreSQL)
    /// sends it at once, so queries that do not depend on each other share one round trip. An
    /// answer is only used when no write ran since it was asked; one never used costs nothing
    /// but its query. Engines in process run the query when it is asked for (the default).
    func prefetch(_ sql: String, _ arguments: SQLArguments)
    /// A number for a new inode, given before the insert, or nil to let the insert number it
    /// (`RETURNING id`). An engine behind a network (PostgreSQL) reserves numbers ahead so a
    /// create can ask for its group with its other reads; an engine in process has no round
    /// trip to save (the default).
    func reserveInodeNumber() throws -> UInt64?
}

extension SQLTransaction {
    public func prefetch(_ sql: String, _ arguments: SQLArguments) {}
    public func reserveInodeNumber() throws -> UInt64? { nil }
}

extension SQLTransaction {
    func rows(_ sql: String) throws -> [SQLRow] { try rows(sql, SQLArguments()) }
    func row(_ sql: String) throws -> SQLRow? { try row(sql, SQLArguments()) }
    func execute(_ sql: String) throws { try execute(sql, SQLArguments()) }
}
