import NIOCore
import PostgresNIO
import Synchronization

/// One connection of the PostgreSQL engine and the statements prepared on it: the store's hot
/// statements are parsed and planned once per connection, not on every call.
///
/// Used by one transaction (one thread) at a time: a session is checked out of the engine's
/// pool for a whole transaction. The lock guards the cache all the same, so the type is Sendable
/// without exceptions.
final class PostgresSession: Sendable {
    let connection: PostgresConnection
    private let prepared = Mutex<[String: PreparedQuery]>([:])

    init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    var isClosed: Bool { connection.isClosed }

    /// `sql` (in PostgreSQL's dialect) prepared on this connection, preparing it on first use.
    /// Waits for the preparation, so statements keep the order they were sent in.
    func statement(_ sql: String) throws -> PreparedQuery {
        if let known = prepared.withLock({ $0[sql] }) { return known }
        let statement = try connection.prepare(query: sql).wait()
        prepared.withLock { $0[sql] = statement }
        return statement
    }
}
