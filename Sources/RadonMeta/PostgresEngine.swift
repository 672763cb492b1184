import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import RadonWire
import Synchronization

/// The shared engine: a PostgreSQL database, so active and standby metadata servers (on other
/// machines) see the same rows.
///
/// The store's logic is synchronous; it runs on the threads of a private `NIOThreadPool`,
/// each holding one connection for the length of a transaction and blocking on every query's
/// future. No event loop and no Swift-concurrency thread ever waits.
///
/// Durability: a write batch returns once PostgreSQL acknowledged its COMMIT (with the
/// server's default `synchronous_commit = on`, after its WAL is flushed). Reads run in
/// REPEATABLE READ, READ ONLY transactions: one snapshot, which holds every committed batch.
///
/// Fencing: see `setFencingEpoch` and `LeaderFence`.
public final class PostgresEngine: MetadataEngine, CustomStringConvertible {
    let location: PostgresDatabaseURL
    let logger: Logger
    private var threadPool: NIOThreadPool { Self.sharedThreadPool }
    private let eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private let translations = PostgresSQLTranslations()
    /// Inode numbers this server reserved ahead for its creates.
    private let inodeNumbers = InodeNumberReserve()
    /// The connection of write batches; batches never overlap (`GroupCommitter`).
    private let writer = Mutex<PostgresSession?>(nil)
    /// Reader connections not in use.
    private let idleReaders = Mutex<[PostgresSession]>([])
    private let connectionCount = Atomic<Int>(0)
    /// The position in `location.hosts` of the last primary found, tried first.
    private let primaryHost = Atomic<Int>(0)
    private let fencingEpoch = Mutex<Int64?>(nil)
    /// The functions write runs go through (`PostgresWriteRun`), made as they are first needed.
    private let fusedFunctions: PostgresFusedFunctions

    /// The threads transactions block on, shared by every engine of the process (a daemon has
    /// one; tests open many): at most this many transactions run at once, and so at most this
    /// many connections per engine are busy.
    static let sharedThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    private init(location: PostgresDatabaseURL, logger: Logger) {
        self.location = location
        self.logger = logger
        fusedFunctions = PostgresFusedFunctions(logger: logger)
        fusedFunctions.install { [weak self] definition in
            await self?.installFunction(definition) ?? .failed
        }
    }

    /// Runs `definition` (a `CREATE OR REPLACE FUNCTION`) on a connection of its own, in
    /// autocommit, and says what came of it: a refusal of class 42 (a definition PostgreSQL
    /// rejects, or no right to create functions) is final, anything else is tried again later.
    private func installFunction(_ definition: String) async -> PostgresFusedFunctions.Installation {
        do {
            try await threadPool.runIfActive { [self] in
                let session = try openSession()
                defer { Self.close(session.connection) }
                _ = try session.answer(of: session.connection.query(PostgresQuery(unsafeSQL: definition), logger: logger))
            }
            return .made
        } catch {
            let final = Self.sqlState(of: error)?.hasPrefix("42") == true
            logger.warning("could not make a fused write function; its statements go one by one", metadata: [
                "error": "\(Self.describe(error))", "again": "\(!final)",
            ])
            return final ? .refused : .failed
        }
    }

    /// Closes what `shutdown` did not (an engine dropped without it, as tests drop theirs).
    deinit {
        for session in idleReaders.withLock({ $0 }) + [writer.withLock({ $0 })].compactMap({ $0 }) {
            Self.close(session.connection)
        }
    }

    /// The database, without its password.
    public var description: String { location.description }

    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/dbname`) and
    /// brings its schema up to date. A server not reachable yet is retried for `patience`, with
    /// a log line each time, before a clear error.
    public static func connect(url: String, logger: Logger, patience: Duration = .seconds(30)) async throws -> PostgresEngine {
        guard let location = PostgresDatabaseURL(url) else {
            throw WireError(.invalidArgument, "bad PostgreSQL URL: expected postgres://user[:password]@host[:port][,host2[:port2]...]/dbname")
        }
        let engine = PostgresEngine(location: location, logger: logger)
        do {
            try await engine.connectWriter(patience: patience)
            try await engine.threadPool.runIfActive { try engine.migrate() }
        } catch {
            await engine.shutdown()
            throw error
        }
        return engine
    }

    /// Sets (or clears, nil) the epoch this server holds leadership under. While it is set,
    /// every write transaction first takes `LeaderFence`'s lock shared and reads the leader
    /// row's epoch and, unless that row exists with exactly this epoch, rolls back and throws
    /// `WireError(.notActive)`. A new leader's epoch change takes the lock exclusive, so it
    /// waits for the write transactions in flight, and no write of a deposed server commits
    /// after it.
    public func setFencingEpoch(_ epoch: Int64?) {
        fencingEpoch.withLock { $0 = epoch }
    }

    /// The epoch set by `setFencingEpoch`.
    public var currentFencingEpoch: Int64? { fencingEpoch.withLock { $0 } }

    public func read<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> Value) async throws -> Value {
        try await threadPool.runIfActive { [self] in
            let session = try idleReader() ?? openSession()
            let transaction = PostgresTransaction(session: session, logger: logger, translations: translations)
            transaction.pipeline("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            do {
                let value = try body(transaction)
                try transaction.checkPipeline()
                end(transaction, "COMMIT")
                return value
            } catch {
                // A failed read (most often a name that is not there) rolls back the same way.
                transaction.settlePipeline()
                end(transaction, "ROLLBACK")
                throw error
            }
        }
    }

    /// The statement alone on a reader connection, in autocommit: PostgreSQL gives it one
    /// snapshot of its own.
    public func rows(_ sql: String, _ arguments: SQLArguments) async throws -> [SQLRow] {
        try await threadPool.runIfActive { [self] in
            let session = try idleReader() ?? openSession()
            defer { if !session.isClosed { idleReaders.withLock { $0.append(session) } } }
            return try PostgresTransaction(session: session, logger: logger, translations: translations).rows(sql, arguments)
        }
    }

    public func writeBatch(_ body: @escaping @Sendable (any SQLTransaction) throws -> Void) async throws {
        try await threadPool.runIfActive { [self] in
            try inWriteConnection { transaction in
                let epoch = try sendFencingCheck(in: transaction)
                do {
                    try body(transaction)
                } catch {
                    // A deposed server answers nothing, not even a failure: the client asks the leader.
                    if let epoch { try checkFencing(epoch, in: transaction) }
                    throw error
                }
                if let epoch { try checkFencing(epoch, in: transaction) }
            }
        }
    }

    /// Runs `body` in a transaction on the writer connection, from a thread of the pool, and
    /// commits it; a connection that cannot even roll back is dropped (the next batch opens
    /// another).
    ///
    /// Batches are chained: each commits with `COMMIT AND CHAIN`, which opens the next batch's
    /// transaction in the same round trip, so a batch sends no BEGIN. The writer connection
    /// therefore idles "in transaction" between batches. That transaction is empty: no snapshot
    /// (READ COMMITTED takes one per statement), no lock (the fence's is released at each
    /// commit), so it holds back neither VACUUM nor a takeover. The session's
    /// `idle_in_transaction_session_timeout` is 0 on this connection so the idle chain is not
    /// cut, and `LeaderFence.guardFunction` sets it locally for the length of each batch, so a
    /// server stopped mid-batch still loses its session (and its locks) in seconds. After a
    /// failure the batch rolls back without chaining, and the next one begins afresh.
    func inWriteConnection(prepares: Bool = true, _ body: (PostgresTransaction) throws -> Void) throws {
        let session = try writer.withLock { $0 }.flatMap { $0.isClosed ? nil : $0 } ?? openSession()
        writer.withLock { $0 = session }
        let transaction = PostgresTransaction(
            session: session, logger: logger, translations: translations, prepares: prepares, inodeNumbers: inodeNumbers,
            fusedFunctions: prepares ? fusedFunctions : nil)
        if !session.inChainedTransaction.exchange(false, ordering: .relaxed) {
            transaction.pipeline("SET idle_in_transaction_session_timeout = 0")
            transaction.pipeline("BEGIN")
        }
        do {
            try body(transaction)
            let committed = try transaction.run("COMMIT AND CHAIN", SQLArguments())
            // An aborted transaction answers COMMIT with ROLLBACK: nothing was kept.
            guard committed.metadata.command == "COMMIT" else {
                throw WireError(.internalError, "PostgreSQL rolled the write transaction back instead of committing it")
            }
            session.inChainedTransaction.store(true, ordering: .relaxed)
        } catch {
            do {
                _ = try transaction.run("ROLLBACK", SQLArguments())
            } catch let lost {
                logger.warning("PostgreSQL write connection lost; the next batch opens another", metadata: [
                    "database": "\(location)", "error": "\(Self.wireError(lost).message)",
                ])
                writer.withLock { $0 = nil }
                Self.close(session.connection)
            }
            throw error
        }
    }

    public func shutdown() async {
        var sessions = idleReaders.withLock { readers in
            defer { readers = [] }
            return readers
        }
        if let session = writer.withLock({ $0 }) { sessions.append(session) }
        writer.withLock { $0 = nil }
        for session in sessions { try? await session.connection.close() }
    }

    /// Starts a write transaction's guard (`LeaderFence.check`), sent without waiting: the batch's
    /// idle limit always, and the fencing check when an epoch is set. Its answer is read by
    /// `checkFencing` before COMMIT, so the check costs no wait of its own; without an epoch it
    /// is checked with the pipeline, at the batch's first wait. It is held back until the
    /// batch's first statement that is not a read (`PostgresTransaction.sendGuard`), and joins
    /// the writes there: the lock is still taken before any write, savepoint or COMMIT.
    private func sendFencingCheck(in transaction: PostgresTransaction) throws -> (held: Int64, answer: PostgresAnswer<[PostgresRow]>)? {
        guard let epoch = fencingEpoch.withLock({ $0 }) else {
            transaction.check(try transaction.sendGuard(LeaderFence.check, [nil]))
            return nil
        }
        return (epoch, try transaction.sendGuard(LeaderFence.check, [epoch]))
    }

    /// Refuses the batch unless the leader row held this server's epoch once its lock was
    /// granted: `notActive`, whatever the batch's own statements failed with after it.
    private func checkFencing(_ fence: (held: Int64, answer: PostgresAnswer<[PostgresRow]>), in transaction: PostgresTransaction) throws {
        do {
            _ = try transaction.rows(of: fence.answer)
        } catch let error as WireError where error.status == .notActive {
            throw error
        } catch {
            throw WireError(.notActive, "this metadata server could not prove it leads with epoch \(fence.held): \(error); ask another server")
        }
    }

    /// An idle reader connection that is still open, if any.
    private func idleReader() -> PostgresSession? {
        while let session = idleReaders.withLock({ $0.popLast() }) {
            if !session.isClosed { return session }
        }
        return nil
    }

    /// Ends a read transaction with `command` (COMMIT or ROLLBACK) without waiting: the
    /// connection goes back at once, and the next transaction's statements queue behind the
    /// command. It fails only with its connection, which is then closed, so nobody reads in a
    /// stale snapshot.
    private func end(_ transaction: PostgresTransaction, _ command: String) {
        guard !transaction.connection.isClosed else { return }
        transaction.finish(with: command)
        idleReaders.withLock { $0.append(transaction.session) }
    }

    /// Closes `connection` without waiting, keeping it alive until it is closed (PostgresNIO
    /// requires a connection be closed before it goes away).
    static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// A new connection to the primary, from a thread of the pool: the first host of the URL
    /// that accepts one and is not in recovery, so after a promotion every new connection (and
    /// every reconnection) goes to the new primary on its own (see `PostgresPrimaryConnector`).
    /// The last primary found is asked first, and a host gets 2 s to accept: a host cut off (no
    /// reset) costs the first connection after a promotion 2 s, and the next ones nothing.
    private func openSession() throws -> PostgresSession {
        var problems: [String] = []
        for (index, host) in location.hosts(startingAt: primaryHost.load(ordering: .relaxed)) {
            let id = connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection.connect(
                    on: eventLoops.next(), configuration: location.configuration(for: host, connectTimeout: .seconds(2)),
                    id: id, logger: logger
                ).wait()
            } catch {
                problems.append("\(host.name):\(host.port): \(Self.describe(error))")
                continue
            }
            // Its waits are the session's: a server going away mid-handshake (a promotion) cannot
            // leave this thread waiting.
            let session = PostgresSession(connection)
            do {
                let result = try session.answer(of: connection.query(PostgresQuery(unsafeSQL: "SELECT pg_is_in_recovery()"), logger: logger))
                if let row = result.rows.first, try !row.decode(Bool.self) {
                    _ = try session.answer(of: connection.query(PostgresQuery(unsafeSQL: Self.idleTransactionLimit), logger: logger))
                    primaryHost.store(index, ordering: .relaxed)
                    return session
                }
                problems.append("\(host.name):\(host.port) is a standby (in recovery)")
            } catch {
                problems.append("\(host.name):\(host.port): \(Self.describe(error))")
            }
            Self.close(connection)
        }
        // notActive, as a lost connection (see `wireError`): clients retry until a primary is back.
        throw WireError(.notActive, "cannot connect to a PostgreSQL primary at \(location): \(problems.joined(separator: "; "))")
    }

    /// The longest an engine thread waits for one answer (`PostgresSession.answer(of:)`). Far above any
    /// statement of the store, which PostgreSQL answers in milliseconds; a commit waiting for a
    /// synchronous standby that is gone waits this long before the batch fails (retried).
    static let answerLimit: Duration = .seconds(15)

    /// Our transactions never wait on their client between statements, so one left open for
    /// seconds belongs to a server that stopped (SIGSTOP, a frozen machine). PostgreSQL ends it
    /// and its session: its locks would otherwise hold a takeover (`LeaderFence`) back.
    static let idleTransactionLimit = "SET idle_in_transaction_session_timeout = '\(idleTransactionSeconds)s'"
    public static let idleTransactionSeconds = 5

    /// The first connection, retried while the server is not up yet (it may be starting with us).
    private func connectWriter(patience: Duration) async throws {
        let deadline = ContinuousClock.now + patience
        var attempt = 0
        while true {
            attempt += 1
            do {
                let session = try await threadPool.runIfActive { try self.openSession() }
                writer.withLock { $0 = session }
                return
            } catch let error as WireError where Self.isRetryable(error) && ContinuousClock.now < deadline {
                logger.warning("PostgreSQL not reachable yet; retrying", metadata: [
                    "database": "\(location)", "attempt": "\(attempt)", "error": "\(error.message)",
                ])
                try await Task.sleep(for: .seconds(1))
            } catch let error as WireError where Self.isRetryable(error) {
                throw WireError(.unavailable, "PostgreSQL at \(location) was not reachable for \(patience): \(error.message)")
            }
        }
    }

    /// Refused or unreachable connections are worth retrying; a wrong password or database is not.
    private static func isRetryable(_ error: WireError) -> Bool {
        !(error.message.contains("28P01") || error.message.contains("3D000") || error.message.contains("28000"))
    }

    /// The SQLSTATE of a PostgreSQL server error, from either of postgres-nio's APIs (nil for
    /// anything else).
    static func sqlState(of error: any Error) -> String? {
        switch error {
        case let error as PSQLError: error.serverInfo?[.sqlState]
        // The prepared-statement API's errors: a server error carries its SQLSTATE.
        case PostgresError.server(let message): message.fields[.sqlState]
        default: nil
        }
    }

    /// PSQLError hides its details from `description`; the log and the caller need them.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let server = error.serverInfo {
            let code = server[.sqlState] ?? "?"
            let message = server[.message] ?? "?"
            return "\(message) (SQLSTATE \(code))"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// A PostgreSQL failure as the service reports it. A lost or refused connection, a server
    /// shutting down or in recovery (SQLSTATE classes 08 and 57P, 25006), or a write refused by
    /// `LeaderFence` answers `notActive`: the client retries (another server, or this one once
    /// it reconnected to the primary, as after a promotion), and a mutation that did commit is
    /// answered from the operation log. Anything else is the server's answer.
    static func wireError(_ error: any Error) -> WireError {
        if let error = error as? WireError { return error }
        let state = sqlState(of: error)  // nil: the connection closed, or the channel failed
        let connectionLost = state.map { $0.hasPrefix("08") || $0.hasPrefix("57P") || $0 == "25006" || $0 == LeaderFence.refusedState } ?? true
        return WireError(connectionLost ? .notActive : .internalError, "PostgreSQL: \(describe(error))")
    }
}
