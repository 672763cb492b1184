import Crypto

/// Consecutive writes of a transaction run as one call of a PL/pgSQL function made for exactly
/// their statements (`PostgresFusedFunctions`), so they cost one round trip to PostgreSQL
/// instead of one each.
///
/// Why: postgres-nio sends a connection's statements one at a time, each after the previous
/// one's answer, so every statement of a batch cost a round trip (and a wake-up of the event
/// loop and of the PostgreSQL backend) even when nobody waited for its answer. A create wrote
/// its inode, its name, its directory and its operation-log entry: four round trips in a row.
/// An anonymous `DO` block did the same in one (tried, not kept: docs/architecture.md), but
/// PostgreSQL compiled and planned every block afresh, about 0.4 ms, as much as it saved. A
/// function is compiled once per session and PL/pgSQL keeps each of its statements' plans, so
/// a call costs what its statements cost.
///
/// A run's shape is its statements' texts and, per argument, its type (BIGINT, DOUBLE
/// PRECISION, TEXT, BYTEA: the types the store binds) or NULL. A NULL argument is written into
/// the body as the literal NULL, which takes the type its place needs as a bound NULL does;
/// every other argument is a parameter of the function. Nothing a caller passes is ever text
/// of the body: the body holds only the store's own statements. The function is named by a
/// SHA-256 of the shape, so every server of a cluster makes and finds the same one, and a
/// changed statement is another function.
///
/// Semantics are the statements' own: they run in order, in the transaction (or savepoint)
/// that is open, and the first failure aborts the call with that statement's SQLSTATE, as it
/// would have aborted the transaction had it been sent alone.
struct PostgresWriteRun {
    /// One statement of the run, in the store's dialect (`?` and `?N`), and its arguments.
    struct Write {
        var sql: String
        var arguments: SQLArguments
    }

    let writes: [Write]
    /// The function's name: `radonfs_writes_` and 32 hex digits of the shape's SHA-256.
    let functionName: String
    /// The arguments of the call: every argument that is not NULL, statement by statement.
    let callArguments: SQLArguments

    init(writes: [Write]) {
        self.writes = writes
        let digest = SHA256.hash(data: Array(Self.shapeText(of: writes).utf8))
        functionName = "radonfs_writes_" + digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        callArguments = SQLArguments(writes.flatMap { $0.arguments.values.filter { Self.type(of: $0) != nil } })
    }

    /// Whether `sql` can be part of a run: an INSERT, UPDATE or DELETE that returns no rows
    /// (PL/pgSQL refuses a statement whose rows go nowhere).
    static func canJoin(_ sql: String) -> Bool {
        let start = sql.drop(while: \.isWhitespace).prefix(6).uppercased()
        guard start == "INSERT" || start == "UPDATE" || start == "DELETE" else { return false }
        return !sql.uppercased().contains("RETURNING")
    }

    /// The PostgreSQL type of a bound argument, or nil for NULL.
    private static func type(of value: SQLValue) -> String? {
        switch value {
        case .null: nil
        case .integer: "BIGINT"
        case .real: "DOUBLE PRECISION"
        case .text: "TEXT"
        case .blob: "BYTEA"
        }
    }

    /// A run's shape as text: each statement, then its arguments' types (`-` for NULL).
    private static func shapeText(of writes: [Write]) -> String {
        var text = ""
        for write in writes {
            text += write.sql
            text += "\u{0}"
            text += write.arguments.values.map { Self.type(of: $0) ?? "-" }.joined(separator: ",")
            text += "\u{0}"
        }
        return text
    }

    /// The call, in PostgreSQL's dialect: `SELECT name($1, ..., $n)`.
    var call: String {
        let count = callArguments.values.count
        return "SELECT \(functionName)(\((0..<count).map { "$\($0 + 1)" }.joined(separator: ", ")))"
    }

    /// PostgreSQL's limit on a function's parameters (`FUNC_MAX_ARGS`).
    static let maximumParameters = 100

    /// The function's definition, or nil when a statement names an argument it was not given
    /// or the run has more arguments than a function may take (a volume's groups, written at
    /// its creation).
    var definition: String? {
        guard callArguments.values.count <= Self.maximumParameters else { return nil }
        var parameterTypes: [String] = []
        var body = ""
        for write in writes {
            // The parameter number of each argument that is not NULL.
            var parameters: [Int: Int] = [:]
            for (index, value) in write.arguments.values.enumerated() {
                guard let type = Self.type(of: value) else { continue }
                parameterTypes.append(type)
                parameters[index + 1] = parameterTypes.count
            }
            var missing = false
            let statement = PostgresSQLTranslations.replacingPlaceholders(in: write.sql) { position in
                guard position >= 1, position <= write.arguments.values.count else {
                    missing = true
                    return "NULL"
                }
                return parameters[position].map { "$\($0)" } ?? "NULL"
            }
            if missing { return nil }
            // A statement whose rows nobody reads (the fencing check) is PL/pgSQL's PERFORM.
            let trimmed = statement.drop(while: \.isWhitespace)
            let performed = trimmed.prefix(6).uppercased() == "SELECT" ? "PERFORM" + trimmed.dropFirst(6) : trimmed
            body += "    " + performed + ";\n"
        }
        let quote = "$radonfs_writes$"
        guard !body.contains(quote) else { return nil }
        return """
            CREATE OR REPLACE FUNCTION \(functionName)(\(parameterTypes.joined(separator: ", ")))
            RETURNS void LANGUAGE plpgsql VOLATILE AS \(quote)
            BEGIN
            \(body)END
            \(quote)
            """
    }
}
