import Foundation
import PostgresNIO
import RadonWire

/// Where a PostgreSQL database is: parsed from `postgres://user[:password]@host[:port]/dbname`
/// (or `postgresql://`), without TLS (the servers sit on a trusted network, as the cluster's
/// own traffic does). Its description leaves the password out, so it can be logged.
struct PostgresLocation: Sendable, CustomStringConvertible {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    init(_ text: String) throws {
        func invalid(_ why: String) -> WireError {
            WireError(.invalidArgument, "bad PostgreSQL URL \"\(Self.redacted(text))\": \(why); expected postgres://user[:password]@host[:port]/dbname")
        }
        guard Self.isURL(text), let components = URLComponents(string: text) else { throw invalid("not a URL") }
        guard let host = components.host, !host.isEmpty else { throw invalid("no host") }
        guard let user = components.user, !user.isEmpty else { throw invalid("no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw invalid("no database name") }
        if let port = components.port, !(1...65535).contains(port) { throw invalid("port \(port) out of range") }
        guard components.query == nil, components.fragment == nil else { throw invalid("options are not supported") }
        self.host = host
        port = components.port ?? 5432
        self.user = user
        password = components.password
        self.database = database
    }

    var configuration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// `text` with any password replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
