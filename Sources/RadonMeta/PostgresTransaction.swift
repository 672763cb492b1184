import Dispatch
import Logging
import NIOCore
import PostgresNIO
import RadonWire
import Synchronization

/// A PostgreSQL connection inside one read or write transaction, driven synchronously from a
/// thread of the engine's pool (never an event loop or a Swift-concurrency thread): each query
/// is sent and its answer waited on.
///
/// Statements whose result nobody reads (BEGIN, SAVEPOINT, RELEASE and every `execute`) are
/// pipelined: sent without waiting and checked before the next query's answer is used, and at
/// the end of each savepoint, so they cost no round trip of their own and a failure still
/// undoes only its own operation.
///
/// Statements are handed to the connection's event loop in bursts: each one waits in `outbox`
/// until the transaction needs an answer, and then all go in one hop to the loop, where they
/// are written in order. The thread then sleeps until the one answer it waits for is set
/// (`PostgresAnswer`), not once per statement answered. A statement handed over alone cost the
/// loop a wake-up (and a second one to register the answer's callback), which on a small
/// machine cost more CPU than PostgreSQL's own work.
/// Not Sendable: it lives on one thread for one transaction.
final class PostgresTransaction: SQLTransaction {
    let session: PostgresSession
    let logger: Logger
    let translations: PostgresSQLTranslations
    /// Whether the store's statements run as prepared statements (not while migrating, whose
    /// DDL runs once and whose parameters are not all BIGINT, TEXT or BYTEA).
    let prepares: Bool
    /// Where a write transaction takes new inode numbers from (nil on reads and migrations).
    let inodeNumbers: InodeNumberReserve?
    /// The functions consecutive writes run through (`PostgresWriteRun`); nil on reads and
    /// migrations, whose writes go one by one.
    let fusedFunctions: PostgresFusedFunctions?

    var connection: PostgresConnection { session.connection }
    /// Statements not yet handed to the event loop, in the order they were sent.
    private var outbox: [Outgoing] = []
    /// What this transaction's thread sleeps on while it waits for an answer.
    private let answered = DispatchSemaphore(value: 0)
    /// Waits for the pipelined statements not yet checked (each throws its statement's failure).
    private var unchecked: [() throws -> Void] = []
    /// Whether `unchecked` holds a statement of the store's (not only BEGIN or SAVEPOINT).
    private var uncheckedChanges = false
    /// Queries sent by `prefetch` whose answers nobody took yet. Invariant: each was sent after
    /// the transaction's last write (every write empties it), so its answer is what the query
    /// would read now.
    private var prefetched: [Prefetched: PostgresAnswer<[PostgresRow]>] = [:]

    /// The write transaction's fencing check (`sendGuard`) while it is held back, and where it
    /// stands in `outbox`: the statements before that index were sent before it.
    private var heldGuard: (check: PendingWrite, index: Int)?

    /// A statement waiting in the outbox: one ready to start (a read or not), or a write that
    /// may run with the writes next to it as one call (`handOver`).
    private enum Outgoing {
        case statement(@Sendable () -> Void, reads: Bool)
        case write(PendingWrite)

        var reads: Bool {
            if case .statement(_, let reads) = self { return reads }
            return false
        }
    }

    private struct PendingWrite {
        var write: PostgresWriteRun.Write
        var statement: PreparedQuery
        var answer: PostgresAnswer<[PostgresRow]>
        /// Whether this is the fencing check, whose answer is its own even inside a call.
        var isGuard = false
    }

    private struct Prefetched: Hashable {
        var sql: String
        var arguments: SQLArguments
    }

    init(session: PostgresSession, logger: Logger, translations: PostgresSQLTranslations, prepares: Bool = true,
         inodeNumbers: InodeNumberReserve? = nil, fusedFunctions: PostgresFusedFunctions? = nil) {
        self.session = session
        self.logger = logger
        self.translations = translations
        self.prepares = prepares
        self.inodeNumbers = inodeNumbers
        self.fusedFunctions = fusedFunctions
    }

    /// A number from the server's reserve, refilled from the inode sequence (one round trip
    /// per `InodeNumberReserve.batchSize` creates) when it runs out.
    func reserveInodeNumber() throws -> UInt64? {
        guard prepares, let inodeNumbers else { return nil }
        if let number = inodeNumbers.take() { return number }
        let fresh: [UInt64] = try rows(InodeNumberReserve.reservation, SQLArguments()).map { $0[0] }
        inodeNumbers.refill(with: fresh)
        return inodeNumbers.take()
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        try runPrepared(sql, arguments).map(Self.row)
    }

    func row(_ sql: String, _ arguments: SQLArguments) throws -> SQLRow? {
        try runPrepared(sql, arguments).first.map(Self.row)
    }

    func prefetch(_ sql: String, _ arguments: SQLArguments) {
        guard prepares, let statement = try? prepared(sql) else { return }
        let answer = execute(statement, arguments, reads: true)
        prefetched[Prefetched(sql: sql, arguments: arguments)] = answer
        // Checked with the pipeline too, so a failing prefetch is the error the caller sees.
        check(answer)
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws {
        prefetched.removeAll()
        if prepares, fusedFunctions != nil, PostgresWriteRun.canJoin(sql) {
            check(enqueue(PostgresWriteRun.Write(sql: sql, arguments: arguments), as: try prepared(sql)))
        } else if prepares {
            check(execute(try prepared(sql), arguments))
        } else {
            check(send(sql, arguments))
        }
        uncheckedChanges = true
    }

    func changes(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    /// The operation's pipelined statements are checked before its savepoint is released, so a
    /// failing one rolls back this operation alone (one round trip, only when there are any).
    func inSavepoint(_ body: () throws -> Void) throws {
        prefetched.removeAll()
        pipeline("SAVEPOINT operation")
        do {
            try body()
            let mustCheck = uncheckedChanges
            pipeline("RELEASE SAVEPOINT operation")
            if mustCheck { try checkPipeline() }
        } catch {
            // Whatever was in flight failed with the operation or is undone with it.
            settlePipeline()
            _ = try run("ROLLBACK TO SAVEPOINT operation", SQLArguments())
            pipeline("RELEASE SAVEPOINT operation")
            throw error
        }
    }

    /// Sends `sql` without waiting; its failure surfaces at the next `run` or `checkPipeline`.
    func pipeline(_ sql: String) {
        check(send(sql, SQLArguments()))
    }

    /// Sends `command` (the COMMIT or ROLLBACK that ends a read) and hands everything still in
    /// the outbox to the loop, without waiting: a failure closes the connection, so the next
    /// transaction does not run inside this one.
    func finish(with command: String) {
        let connection = connection
        let query = PostgresQuery(unsafeSQL: command)
        let logger = logger
        outbox.append(.statement({
            connection.query(query, logger: logger).whenFailure { _ in PostgresEngine.close(connection) }
        }, reads: false))
        handOver()
    }

    /// Adds `answer` to the statements checked by the next `checkPipeline`.
    func check<Value: Sendable>(_ answer: PostgresAnswer<Value>) {
        unchecked.append { [unowned self] in _ = try wait(answer) }
    }

    /// Waits for every pipelined statement; throws the first failure. The last one is waited
    /// for first: a connection answers in order, so the others are then in, and the thread
    /// sleeps once.
    func checkPipeline() throws {
        let pending = unchecked
        unchecked = []
        uncheckedChanges = false
        var failure: (any Error)?
        for waitForStatement in pending.reversed() {
            do { try waitForStatement() } catch { failure = error }  // the earliest is kept
        }
        if let failure { throw failure }
    }

    /// Waits for every pipelined statement, ignoring failures.
    func settlePipeline() {
        try? checkPipeline()
    }

    /// Sends `sql` and waits for its result (and for everything pipelined before it).
    func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        prefetched.removeAll()
        return try answerAfterPipeline(send(sql, arguments))
    }

    /// The answer of the statement sent last, once the pipeline before it is checked (so a
    /// pipelined failure is the error thrown). It is waited for first: sent last, answered
    /// last, so the pipeline is in once it is, and the thread sleeps once.
    private func answerAfterPipeline<Value: Sendable>(_ answer: PostgresAnswer<Value>) throws -> Value {
        _ = try? wait(answer)
        try checkPipeline()
        return try wait(answer)
    }

    /// Sends `sql` as a prepared statement without waiting; `rows(of:)` reads its answer later.
    /// Statements sent after it run after it, so its answer can be read at the end of the
    /// transaction without costing a round trip of its own.
    func send(prepared sql: String, _ arguments: SQLArguments) throws -> PostgresAnswer<[PostgresRow]> {
        execute(try prepared(sql), arguments)
    }

    /// Sends a write transaction's fencing check (`LeaderFence.check`), held back until the
    /// first statement that is not a read, or until its answer is waited for: there it joins
    /// the writes that follow as the first statement of their call (`PostgresWriteRun`), which
    /// saves it a round trip of its own. It still comes before every write, every savepoint
    /// and the COMMIT, so its lock is taken outside any savepoint and held to the end, and
    /// only reads, which change nothing, may run before it. Without write runs it is sent at
    /// once.
    func sendGuard(_ sql: String, _ arguments: SQLArguments) throws -> PostgresAnswer<[PostgresRow]> {
        guard fusedFunctions != nil, heldGuard == nil else { return try send(prepared: sql, arguments) }
        let statement = try prepared(sql)
        guard !connection.isClosed else { return Self.closedConnectionAnswer() }
        let answer = PostgresAnswer<[PostgresRow]>()
        let check = PendingWrite(write: .init(sql: sql, arguments: arguments), statement: statement, answer: answer, isGuard: true)
        heldGuard = (check, outbox.count)
        return answer
    }

    /// The answer of a statement sent with `send(prepared:)`.
    func rows(of statement: PostgresAnswer<[PostgresRow]>) throws -> [SQLRow] {
        try wait(statement).map(Self.row)
    }

    /// Runs `sql` as a prepared statement (unprepared while migrating) and waits for its rows.
    private func runPrepared(_ sql: String, _ arguments: SQLArguments) throws -> [PostgresRow] {
        guard prepares else { return try run(sql, arguments).rows }
        if let answer = prefetched.removeValue(forKey: Prefetched(sql: sql, arguments: arguments)) {
            try checkPipeline()
            return try wait(answer)
        }
        // INSERT/UPDATE/DELETE ... RETURNING write: older prefetched answers may be stale.
        let reads = Self.isQuery(sql)
        if !reads { prefetched.removeAll() }
        return try answerAfterPipeline(execute(try prepared(sql), arguments, reads: reads))
    }

    /// Whether `sql` only reads (a SELECT), so prefetched answers stay current across it.
    static func isQuery(_ sql: String) -> Bool {
        sql.drop(while: \.isWhitespace).prefix(6).uppercased() == "SELECT"
    }

    private func prepared(_ sql: String) throws -> PreparedQuery {
        do {
            return try session.statement(translations.postgres(sql))
        } catch {
            throw PostgresEngine.wireError(error)
        }
    }

    /// Arguments as the prepared-statement API takes them (binary, typed as the columns are).
    static func data(_ arguments: SQLArguments) -> [PostgresData] {
        arguments.values.map { value in
            switch value {
            case .null: PostgresData.null
            case .integer(let integer): PostgresData(int64: integer)
            case .real(let real): PostgresData(double: real)
            case .text(let text): PostgresData(string: text)
            case .blob(let bytes): PostgresData(type: .bytea, value: ByteBuffer(bytes: bytes))
            }
        }
    }

    private func send(_ sql: String, _ arguments: SQLArguments) -> PostgresAnswer<PostgresQueryResult> {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        let connection = connection
        let query = PostgresQuery(unsafeSQL: translations.postgres(sql), binds: binds)
        let logger = logger
        return enqueue(reads: Self.isQuery(sql)) { connection.query(query, logger: logger) }
    }

    /// Runs a prepared statement; `reads` says it only reads (a held fencing check may wait
    /// behind it).
    private func execute(_ statement: PreparedQuery, _ arguments: SQLArguments, reads: Bool = false) -> PostgresAnswer<[PostgresRow]> {
        let binds = Self.data(arguments)
        return enqueue(reads: reads) { statement.execute(binds) }
    }

    /// Puts a statement in the outbox; `start` runs on the event loop when the outbox is handed
    /// over. A statement sent on a connection that already closed may never be answered
    /// (postgres-nio does not always fail it), so none is: it fails at once, as a lost
    /// connection does.
    private func enqueue<Value: Sendable>(
        reads: Bool, _ start: @escaping @Sendable () -> EventLoopFuture<Value>
    ) -> PostgresAnswer<Value> {
        guard !connection.isClosed else { return Self.closedConnectionAnswer() }
        let answer = PostgresAnswer<Value>()
        outbox.append(.statement({ start().whenComplete { answer.set($0) } }, reads: reads))
        return answer
    }

    /// The answer of a statement never sent, its connection being closed: it fails as a lost
    /// connection does.
    private static func closedConnectionAnswer<Value: Sendable>() -> PostgresAnswer<Value> {
        PostgresAnswer(failure: WireError(.notActive, "the PostgreSQL connection closed"))
    }

    /// Puts a write in the outbox, where `handOver` may join it with its neighbours.
    private func enqueue(_ write: PostgresWriteRun.Write, as statement: PreparedQuery) -> PostgresAnswer<[PostgresRow]> {
        guard !connection.isClosed else { return Self.closedConnectionAnswer() }
        let answer = PostgresAnswer<[PostgresRow]>()
        outbox.append(.write(PendingWrite(write: write, statement: statement, answer: answer)))
        return answer
    }

    /// Hands the outbox to the event loop in one hop; its statements are written there in order.
    /// Two or more writes in a row go as one call of their function when it is ready
    /// (`PostgresWriteRun`), each write's answer being the call's.
    private func handOver(sendingGuard: Bool = false) {
        placeGuard(sendingGuard: sendingGuard)
        guard !outbox.isEmpty else { return }
        var statements: [@Sendable () -> Void] = []
        var run: [PendingWrite] = []
        func endRun() {
            if run.count >= 2, let call = fusedCall(of: run) {
                statements.append(call)
            } else {
                for pending in run {
                    let binds = Self.data(pending.write.arguments)
                    let statement = pending.statement
                    let answer = pending.answer
                    statements.append { statement.execute(binds).whenComplete { answer.set($0) } }
                }
            }
            run = []
        }
        for outgoing in outbox {
            switch outgoing {
            case .statement(let start, _):
                endRun()
                statements.append(start)
            case .write(let pending):
                run.append(pending)
            }
        }
        endRun()
        outbox = []
        heldGuard?.index = 0
        connection.eventLoop.execute {
            for start in statements { start() }
        }
    }

    /// Puts the held fencing check in the outbox before the first statement after it that is
    /// not a read, or at the end when `sendingGuard` (its answer is waited for).
    private func placeGuard(sendingGuard: Bool) {
        guard let (check, index) = heldGuard else { return }
        let start = min(index, outbox.count)
        if let position = outbox[start...].firstIndex(where: { !$0.reads }) {
            outbox.insert(.write(check), at: position)
        } else if sendingGuard {
            outbox.append(.write(check))
        } else {
            return
        }
        heldGuard = nil
    }

    /// The start of `writes` as one call of their function, or nil when it is not ready.
    ///
    /// A call PostgreSQL cannot prepare (its function is gone: dropped by hand) has aborted the
    /// transaction: the function is refused from then on, and the writes fail as a lost
    /// connection does, so the client retries them, one by one this time.
    private func fusedCall(of writes: [PendingWrite]) -> (@Sendable () -> Void)? {
        guard let fusedFunctions else { return nil }
        let run = PostgresWriteRun(writes: writes.map(\.write))
        guard fusedFunctions.isReady(run) else { return nil }
        let answers = writes.map { ($0.answer, $0.isGuard) }
        let name = run.functionName
        let call: PreparedQuery
        do {
            call = try session.statement(run.call)
        } catch {
            if PostgresEngine.sqlState(of: error)?.hasPrefix("42") == true {
                fusedFunctions.refuse(name, because: PostgresEngine.describe(error))
            }
            let failure = WireError(.notActive, "PostgreSQL could not prepare \(name): \(PostgresEngine.describe(error)); retry")
            return { for (answer, _) in answers { answer.set(.failure(failure)) } }
        }
        let binds = Self.data(run.callArguments)
        return {
            call.execute(binds).whenComplete { result in
                var outcome = result.map { _ in [PostgresRow]() }
                var guardOutcome = outcome
                if case .failure(let error) = result {
                    if let state = PostgresEngine.sqlState(of: error), state.hasPrefix("42") {
                        // A function that does not fit its statements (or is gone): from now on
                        // they go one by one, and this operation fails as a lost connection
                        // does, so its client retries it that way (nothing was committed).
                        fusedFunctions.refuse(name, because: PostgresEngine.describe(error))
                        outcome = .failure(WireError(.notActive, "PostgreSQL refused \(name): \(PostgresEngine.describe(error)); retry"))
                        guardOutcome = outcome
                    } else if PostgresEngine.wireError(error).status != .notActive {
                        // The check ran first: unless it is what failed (or the connection
                        // did), it passed, and the failure is a write's.
                        guardOutcome = .success([])
                    }
                }
                for (answer, isGuard) in answers { answer.set(isGuard ? guardOutcome : outcome) }
            }
        }
    }

    /// Waits for one answer, handing over whatever is still in the outbox first
    /// (`PostgresSession.answer(of:signalledBy:)`: bounded, and cut short when the connection
    /// closes).
    private func wait<Value: Sendable>(_ answer: PostgresAnswer<Value>) throws -> Value {
        do {
            if answer.outcome == nil {
                handOver(sendingGuard: heldGuard.map { ObjectIdentifier($0.check.answer) == ObjectIdentifier(answer) } ?? false)
            }
            return try session.answer(of: answer, signalledBy: answered)
        } catch {
            throw PostgresEngine.wireError(error)
        }
    }

    /// PostgreSQL's values as the store reads them: every integer type as an integer, booleans
    /// as 0/1 (as SQLite has them), BYTEA as bytes. Results come in binary format on both paths
    /// (the prepared-statement API labels its cells as text but fills them with binary values),
    /// so the bytes are read by column type.
    static func row(_ row: PostgresRow) -> SQLRow {
        SQLRow(row.map { cell -> SQLValue in
            guard var bytes = cell.bytes else { return .null }
            let length = bytes.readableBytes
            switch cell.dataType {
            case .int8 where length == 8: return .integer(bytes.readInteger(as: Int64.self)!)
            case .int4 where length == 4: return .integer(Int64(bytes.readInteger(as: Int32.self)!))
            case .int2 where length == 2: return .integer(Int64(bytes.readInteger(as: Int16.self)!))
            case .bool where length == 1: return .integer(bytes.readInteger(as: UInt8.self)! != 0 ? 1 : 0)
            case .float8 where length == 8: return .real(Double(bitPattern: bytes.readInteger(as: UInt64.self)!))
            case .bytea: return .blob(bytes.readBytes(length: length) ?? [])
            case .void: return .null
            case .text, .varchar, .name, .bpchar: return .text(bytes.readString(length: length) ?? "")
            default:
                fatalError("column \(cell.columnName) has type \(cell.dataType) (\(length) bytes), which the store never reads")
            }
        })
    }
}

/// The store's SQL (`?` and `?N` placeholders) in PostgreSQL's dialect (`$N`), translated once
/// per statement text.
final class PostgresSQLTranslations: Sendable {
    private let cache = Mutex<[String: String]>([:])

    func postgres(_ sql: String) -> String {
        if let known = cache.withLock({ $0[sql] }) { return known }
        let translated = Self.translate(sql)
        cache.withLock { $0[sql] = translated }
        return translated
    }

    /// `?` becomes `$1`, `$2`, ... in order; `?N` becomes `$N`; nothing inside quotes changes.
    static func translate(_ sql: String) -> String {
        replacingPlaceholders(in: sql) { "$\($0)" }
    }

    /// `sql` with each placeholder replaced by `replacement(position)`: `?` is the next
    /// position in order (from 1), `?N` is position N; nothing inside quotes changes.
    static func replacingPlaceholders(in sql: String, with replacement: (Int) -> String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 8)
        var next = 1
        var quote: Character? = nil
        var characters = sql[...]
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                let digits = characters.prefix(while: \.isASCII).prefix(while: \.isNumber)
                if digits.isEmpty {
                    result += replacement(next)
                    next += 1
                } else {
                    result += replacement(Int(digits)!)
                    characters = characters.dropFirst(digits.count)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
