import Synchronization

/// Group commit: write operations that arrive while a commit is in progress run together in the
/// next transaction, each in its own savepoint, and share its one fsync. Engine-neutral: the
/// batch is one `MetadataEngine.writeBatch`, so SQLite and PostgreSQL commit alike.
///
/// With `synchronous = FULL` every commit costs an fsync of the WAL, which bounds a one-op-per-
/// transaction store to 1/fsync writes per second however many clients wait. Batching keeps
/// each operation atomic (a failing one rolls back to its savepoint and the others commit) and
/// durable (no caller hears back before the batch's commit returned), while many concurrent
/// creates cost one fsync. A lone writer pays nothing extra: its batch is just itself, run
/// without a savepoint (the transaction is all its own: a failure rolls the transaction back),
/// which on PostgreSQL saves two statements per operation.
final class GroupCommitter: Sendable {
    private struct Pending: Sendable {
        /// Runs the operation inside the batch's transaction, keeping its own result; in a
        /// savepoint unless it is alone in the batch. Returns whether it succeeded.
        let run: @Sendable (any SQLTransaction, _ alone: Bool) -> Bool
        /// Called once the batch committed (nil) or failed to (the error).
        let finish: @Sendable ((any Error)?) -> Void
        /// Where its writer waits for the batch, or for its turn to commit the next one.
        let ticket: FirstOutcome<CommitTurn>
    }

    /// Invariant: `draining` is true from the moment a writer takes the turn to commit until
    /// the last batch is committed and the queue found empty; while it is true exactly one
    /// writer commits, and every operation in `pending` has a writer waiting on its ticket.
    private struct Queue {
        var pending: [Pending] = []
        var draining = false
    }

    private let engine: any MetadataEngine
    private let queue = Mutex(Queue())

    init(engine: any MetadataEngine) {
        self.engine = engine
    }

    /// Runs `body` atomically in a durable transaction shared with concurrent writes.
    ///
    /// The batches are committed by the writers themselves, not by a task of the committer's
    /// own: a writer that finds nobody committing commits the queue (its own operation first),
    /// and one that finds a commit under way waits; when a batch is done its committer hands
    /// the turn to the writer of the next queued operation, which it wakes anyway to answer.
    /// So a lone write costs no thread hand-off at all, and a busy queue none beyond the
    /// wake-ups of the writers it answers.
    ///
    /// Under a request id (`OperationLog.request`, an identified mutation) the operation log is
    /// asked first when the request is a retry, in the same savepoint: a request that committed
    /// before gets its stored result and `body` does not run; otherwise `body`'s result is
    /// stored with its effect.
    func write<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> Value) async throws -> Value {
        let outcome = Outcome<Value>()
        let logged = OperationLog.request.flatMap { request in OperationLogCoding<Value>().map { (request, $0) } }
        let now = WallClock.nanosecondsSinceEpoch()
        let ticket = FirstOutcome<CommitTurn>()
        let pending = Pending(
            run: { db, alone in
                do {
                    var value: Value?
                    let step = {
                        guard let (request, coding) = logged else {
                            value = try body(db)
                            return
                        }
                        if request.isRetry, let stored = try OperationLog.storedReply(for: request.identity, in: db) {
                            value = try coding.decode(stored)
                        } else {
                            let result = try body(db)
                            try OperationLog.store(coding.encode(result), for: request.identity, now: now, in: db)
                            value = result
                        }
                    }
                    if alone {
                        try step()
                    } else {
                        try db.inSavepoint(step)
                    }
                    outcome.set(.success(value!))
                    return true
                } catch {
                    outcome.set(.failure(error))
                    return false
                }
            },
            finish: { error in
                if let error { outcome.set(.failure(error)) }
                ticket.settle(.success(.committed))
            },
            ticket: ticket
        )
        let commitsNow = queue.withLock { queue in
            queue.pending.append(pending)
            guard !queue.draining else { return false }
            queue.draining = true
            return true
        }
        if commitsNow {
            await commitQueuedBatch()
        } else if try await ticket.value() == .commitNext {
            await commitQueuedBatch()
        }
        return try outcome.get()
    }

    /// Commits every queued operation in one batch (the caller's own among them), answers
    /// their writers, then hands the turn to the writer of the first operation queued since,
    /// or ends the draining when none is.
    private func commitQueuedBatch() async {
        let batch = queue.withLock { queue in
            let batch = queue.pending
            queue.pending = []
            return batch
        }
        do {
            try await engine.writeBatch { db in
                let alone = batch.count == 1
                for pending in batch where !pending.run(db, alone) && alone {
                    // Roll back what the failed operation did; its caller gets its own error.
                    throw LoneOperationFailed()
                }
            }
            for pending in batch { pending.finish(nil) }
        } catch is LoneOperationFailed {
            for pending in batch { pending.finish(nil) }
        } catch {
            for pending in batch { pending.finish(error) }
        }
        let next = queue.withLock { queue -> FirstOutcome<CommitTurn>? in
            guard let first = queue.pending.first else {
                queue.draining = false
                return nil
            }
            return first.ticket
        }
        next?.settle(.success(.commitNext))
    }
}

/// Thrown out of a batch of one whose operation failed, so the engine rolls it back.
private struct LoneOperationFailed: Error {}

/// What a waiting writer hears first (`FirstOutcome`: a later word is dropped): its batch was
/// committed, or it commits the next one. `commitNext` is only said while its operation is
/// still queued, so nothing commits it before that writer does.
private enum CommitTurn: Sendable {
    /// The writer's batch was committed (or failed): its outcome is set.
    case committed
    /// The writer commits the queue next.
    case commitNext
}

/// One operation's result, handed from the batch to the waiting caller.
private final class Outcome<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)

    func set(_ value: Result<Value, any Error>) { result.withLock { $0 = value } }

    func get() throws -> Value {
        guard let value = result.withLock({ $0 }) else { throw CancellationError() }
        return try value.get()
    }
}
