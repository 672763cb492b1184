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
    let connection: PostgresConnection
    let logger: Logger
    let translations: PostgresSQLTranslations
    /// Pipelined statements not yet checked.
    private var unchecked: [EventLoopFuture<PostgresQueryResult>] = []
    /// Whether `unchecked` holds a statement of the store's (not only BEGIN or SAVEPOINT).
    private var uncheckedChanges = false

    init(connection: PostgresConnection, logger: Logger, translations: PostgresSQLTranslations) {
        self.connection = connection
        self.logger = logger
        self.translations = translations
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        try run(sql, arguments).rows.map(Self.row)
    }

    func row(_ sql: String, _ arguments: SQLArguments) throws -> SQLRow? {
        try run(sql, arguments).rows.first.map(Self.row)
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws {
        unchecked.append(send(sql, arguments))
        uncheckedChanges = true
    }

    func changes(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    /// The operation's pipelined statements are checked before its savepoint is released, so a
    /// failing one rolls back this operation alone (one round trip, only when there are any).
    func inSavepoint(_ body: () throws -> Void) throws {
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
        unchecked.append(send(sql, SQLArguments()))
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
        let future = send(sql, arguments)
        try checkPipeline()
        return try wait(future)
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
        return connection.query(PostgresQuery(unsafeSQL: translations.postgres(sql), binds: binds), logger: logger)
    }

    private func wait(_ future: EventLoopFuture<PostgresQueryResult>) throws -> PostgresQueryResult {
        do {
            return try future.wait()
        } catch let error as PSQLError {
            throw PostgresEngine.wireError(error)
        }
    }

    /// PostgreSQL's values as the store reads them: every integer type as an integer, booleans
    /// as 0/1 (as SQLite has them), BYTEA as bytes.
    static func row(_ row: PostgresRow) -> SQLRow {
        SQLRow(row.map { cell -> SQLValue in
            guard var bytes = cell.bytes else { return .null }
            do {
                switch cell.dataType {
                case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
                case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
                case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
                case .float4, .float8: return .real(try cell.decode(Double.self))
                case .void: return .null
                default: return .text(try cell.decode(String.self))
                }
            } catch {
                fatalError("cannot read column \(cell.columnName) of type \(cell.dataType): \(String(reflecting: error))")
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
