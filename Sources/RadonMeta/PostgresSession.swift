import Dispatch
import NIOCore
import PostgresNIO
import RadonWire
import Synchronization

/// One connection of the PostgreSQL engine and the statements prepared on it: the store's hot
/// statements are parsed and planned once per connection, not on every call.
///
/// Used by one transaction (one thread) at a time: a session is checked out of the engine's
/// pool for a whole transaction. The locks guard the statement cache and the waiters all the
/// same, so the type is Sendable without exceptions.
///
/// Waiting for answers (`answer(of:)`): postgres-nio 1.33 hands a query to its channel with
/// `write(_:promise: nil)`, so a query written as the connection closes is never answered nor
/// failed. A thread waiting on it would hold its transaction, and every request queued behind
/// it, for ever (seen across a PostgreSQL promotion). So a wait also ends when the connection
/// closes (noticed once per connection, through its close future) and, failing everything
/// else, after `PostgresEngine.answerLimit`; both fail as a lost connection does, and clients
/// retry on a fresh connection.
final class PostgresSession: Sendable {
    let connection: PostgresConnection
    private let prepared = Mutex<[String: PreparedQuery]>([:])
    private let waiters = Mutex<Waiters>(Waiters())

    private struct Waiters {
        var closed = false
        var waiting: [ObjectIdentifier: DispatchSemaphore] = [:]
    }

    init(_ connection: PostgresConnection) {
        self.connection = connection
        connection.closeFuture.whenComplete { [weak self] _ in self?.connectionClosed() }
    }

    /// Wakes every thread waiting for an answer on the connection, which closed.
    private func connectionClosed() {
        let waiting = waiters.withLock { state in
            state.closed = true
            return Array(state.waiting.values)
        }
        for semaphore in waiting { semaphore.signal() }
    }

    var isClosed: Bool { connection.isClosed }

    /// `sql` (in PostgreSQL's dialect) prepared on this connection, preparing it on first use.
    /// Waits for the preparation, so statements keep the order they were sent in.
    func statement(_ sql: String) throws -> PreparedQuery {
        if let known = prepared.withLock({ $0[sql] }) { return known }
        let statement = try answer(of: connection.prepare(query: sql))
        prepared.withLock { $0[sql] = statement }
        return statement
    }

    /// Blocks the calling thread (never an event loop) until `future` completes, the
    /// connection closes, or `PostgresEngine.answerLimit` passes (the connection is then
    /// closed); the last two throw `WireError(.notActive)`.
    func answer<Value: Sendable>(of future: EventLoopFuture<Value>) throws -> Value {
        let semaphore = DispatchSemaphore(value: 0)
        let result = AnswerBox<Value>()
        future.whenComplete { outcome in
            result.outcome.withLock { $0 = outcome }
            semaphore.signal()
        }
        let key = ObjectIdentifier(semaphore)
        let closedAlready = waiters.withLock { state in
            if !state.closed { state.waiting[key] = semaphore }
            return state.closed
        }
        let timedOut = !closedAlready
            && semaphore.wait(timeout: .now() + .nanoseconds(Int(PostgresEngine.answerLimit.wireNanoseconds))) == .timedOut
        waiters.withLock { _ = $0.waiting.removeValue(forKey: key) }
        if let outcome = result.outcome.withLock({ $0 }) { return try outcome.get() }
        if timedOut {
            PostgresEngine.close(connection)
            throw WireError(.notActive, "PostgreSQL gave no answer within \(PostgresEngine.answerLimit); the connection is closed")
        }
        throw WireError(.notActive, "the PostgreSQL connection closed")
    }
}

/// Where an answer waits for the thread that asked for it; the lock guards it.
private final class AnswerBox<Value: Sendable>: Sendable {
    let outcome = Mutex<Result<Value, any Error>?>(nil)
}
