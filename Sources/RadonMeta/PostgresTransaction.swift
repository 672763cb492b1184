import Logging
import NIOCore
import PostgresNIO
import RadonWire
import Synchronization

/// A PostgreSQL connection inside one read or write transaction, driven synchronously from a
/// thread of the engine's pool (never an event loop or a Swift-concurrency thread): each query
/// is sent and its future waited on.
///
/// Statements whose result nobody reads (BEGIN, SAVEPOINT, RELEASE and every `execute`) are
/// pipelined: sent at once and checked before the next query's answer is used, and at the end
/// of each savepoint, so they cost no round trip of their own and a failure still undoes only
/// its own operation. Not Sendable: it lives on one thread for one transaction.
final class PostgresTransaction: SQLTransaction {
    let session: PostgresSession
    let logger: Logger
    let translations: PostgresSQLTranslations
    /// Whether the store's statements run as prepared statements (not while migrating, whose
    /// DDL runs once and whose parameters are not all BIGINT, TEXT or BYTEA).
    let prepares: Bool

    var connection: PostgresConnection { session.connection }
    /// Pipelined statements not yet checked.
    private var unchecked: [EventLoopFuture<PostgresQueryResult?>] = []
    /// Whether `unchecked` holds a statement of the store's (not only BEGIN or SAVEPOINT).
    private var uncheckedChanges = false
    /// Queries sent by `prefetch` whose answers nobody took yet. Invariant: each was sent after
    /// the transaction's last write (every write empties it), so its answer is what the query
    /// would read now.
    private var prefetched: [Prefetched: EventLoopFuture<[PostgresRow]>] = [:]

    private struct Prefetched: Hashable {
        var sql: String
        var arguments: SQLArguments
    }

    init(session: PostgresSession, logger: Logger, translations: PostgresSQLTranslations, prepares: Bool = true) {
        self.session = session
        self.logger = logger
        self.translations = translations
        self.prepares = prepares
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        try runPrepared(sql, arguments).map(Self.row)
    }

    func row(_ sql: String, _ arguments: SQLArguments) throws -> SQLRow? {
        try runPrepared(sql, arguments).first.map(Self.row)
    }

    func prefetch(_ sql: String, _ arguments: SQLArguments) {
        guard prepares, let statement = try? prepared(sql) else { return }
        let answer = execute(statement, arguments)
        prefetched[Prefetched(sql: sql, arguments: arguments)] = answer
        // Checked with the pipeline too, so a failing prefetch is the error the caller sees.
        unchecked.append(answer.map { _ in nil })
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws {
        prefetched.removeAll()
        if prepares {
            let statement = try prepared(sql)
            unchecked.append(execute(statement, arguments).map { _ in PostgresQueryResult?.none })
        } else {
            unchecked.append(send(sql, arguments).map { Optional($0) })
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
        unchecked.append(send(sql, SQLArguments()).map { Optional($0) })
    }

    /// Waits for every pipelined statement; throws the first failure.
    func checkPipeline() throws {
        let pending = unchecked
        unchecked = []
        uncheckedChanges = false
        var failure: (any Error)?
        for future in pending {
            do { _ = try wait(future) } catch { failure = failure ?? error }
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
        let future = send(sql, arguments)
        try checkPipeline()
        return try wait(future)
    }

    /// Sends `sql` as a prepared statement without waiting; `rows(of:)` reads its answer later.
    /// Statements sent after it run after it, so its answer can be read at the end of the
    /// transaction without costing a round trip of its own.
    func send(prepared sql: String, _ arguments: SQLArguments) throws -> EventLoopFuture<[PostgresRow]> {
        execute(try prepared(sql), arguments)
    }

    /// The answer of a statement sent with `send(prepared:)`.
    func rows(of statement: EventLoopFuture<[PostgresRow]>) throws -> [SQLRow] {
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
        if !Self.isQuery(sql) { prefetched.removeAll() }
        let future = execute(try prepared(sql), arguments)
        try checkPipeline()
        return try wait(future)
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

    private func send(_ sql: String, _ arguments: SQLArguments) -> EventLoopFuture<PostgresQueryResult> {
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
        guard !connection.isClosed else { return closedAnswer() }
        return connection.query(PostgresQuery(unsafeSQL: translations.postgres(sql), binds: binds), logger: logger)
    }

    /// Runs a prepared statement, unless the connection closed already.
    private func execute(_ statement: PreparedQuery, _ arguments: SQLArguments) -> EventLoopFuture<[PostgresRow]> {
        guard !connection.isClosed else { return closedAnswer() }
        return statement.execute(Self.data(arguments))
    }

    /// A statement sent on a connection that already closed may never be answered (postgres-nio
    /// does not always fail it), so none is sent: it fails at once, as a lost connection does.
    private func closedAnswer<Value>() -> EventLoopFuture<Value> {
        connection.eventLoop.makeFailedFuture(WireError(.notActive, "the PostgreSQL connection closed"))
    }

    /// Waits for one answer (`PostgresSession.answer(of:)`: bounded, and cut short when the
    /// connection closes).
    private func wait<Value: Sendable>(_ future: EventLoopFuture<Value>) throws -> Value {
        do {
            return try session.answer(of: future)
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
                    result += "$\(next)"
                    next += 1
                } else {
                    result += "$\(digits)"
                    characters = characters.dropFirst(digits.count)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
