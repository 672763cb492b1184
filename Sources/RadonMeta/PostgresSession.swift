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
    /// Whether the connection sits in a transaction chained by the last write batch's `COMMIT
    /// AND CHAIN`, so the next batch needs no BEGIN (`PostgresEngine.inWriteConnection`).
    let inChainedTransaction = Atomic<Bool>(false)
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
        let signal = DispatchSemaphore(value: 0)
        let answer = PostgresAnswer<Value>()
        future.whenComplete { answer.set($0) }
        return try self.answer(of: answer, signalledBy: signal)
    }

    /// Blocks the calling thread (never an event loop) until `answer` is set, the connection
    /// closes, or `PostgresEngine.answerLimit` passes (the connection is then closed); the
    /// last two throw `WireError(.notActive)`.
    ///
    /// Only `answer` wakes the thread (besides a closing connection): a transaction whose
    /// statements are answered one by one sleeps once, for the one it waits for, not once per
    /// statement. `signal` may be shared by the waits of one thread (a transaction's); a wake-up
    /// left over from a wait that timed out only makes a later one look again. An answer
    /// already set costs no wait.
    func answer<Value: Sendable>(of answer: PostgresAnswer<Value>, signalledBy signal: DispatchSemaphore) throws -> Value {
        if let outcome = answer.outcome { return try outcome.get() }
        let deadline = DispatchTime.now() + .nanoseconds(Int(PostgresEngine.answerLimit.nanoseconds))
        let key = ObjectIdentifier(answer)
        let closedAlready = waiters.withLock { state in
            if !state.closed { state.waiting[key] = signal }
            return state.closed
        }
        defer { waiters.withLock { _ = $0.waiting.removeValue(forKey: key) } }
        var timedOut = false
        if !closedAlready, answer.wake(signal) {
            while answer.outcome == nil, !waiters.withLock({ $0.closed }) {
                if signal.wait(timeout: deadline) == .timedOut {
                    timedOut = true
                    break
                }
            }
        }
        if let outcome = answer.outcome { return try outcome.get() }
        if timedOut {
            PostgresEngine.close(connection)
            throw WireError(.notActive, "PostgreSQL gave no answer within \(PostgresEngine.answerLimit); the connection is closed")
        }
        throw WireError(.notActive, "the PostgreSQL connection closed")
    }
}

/// One statement's answer, set on the event loop and read by the engine thread that waits for
/// it (`PostgresSession.answer(of:signalledBy:)`), which it wakes; the lock guards both. Set at
/// most once.
final class PostgresAnswer<Value: Sendable>: Sendable {
    private struct State {
        var outcome: Result<Value, any Error>?
        var waiter: DispatchSemaphore?
    }

    private let state = Mutex(State())

    init() {}

    /// An answer that is already a failure (a statement never sent).
    init(failure: any Error) {
        state.withLock { $0.outcome = .failure(failure) }
    }

    /// Sets the answer and wakes the thread waiting for it, if any.
    func set(_ outcome: Result<Value, any Error>) {
        let waiter = state.withLock { state in
            state.outcome = outcome
            return state.waiter
        }
        waiter?.signal()
    }

    var outcome: Result<Value, any Error>? { state.withLock { $0.outcome } }

    /// Asks to have `signal` signalled once the answer is set; false when it is set already.
    func wake(_ signal: DispatchSemaphore) -> Bool {
        state.withLock { state in
            guard state.outcome == nil else { return false }
            state.waiter = signal
            return true
        }
    }
}
