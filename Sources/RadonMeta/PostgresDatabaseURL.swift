import Foundation
import PostgresNIO
import RadonWire

/// A PostgreSQL database named as libpq does, with one host or several:
/// `postgres://user[:password]@host1:port1,host2:port2/database`.
///
/// Several hosts name one database replicated among them (a primary and its streaming
/// standbys); whoever connects tries each in turn and keeps the one that is not in recovery
/// (`PostgresPrimaryConnector`), so a promotion needs no change of configuration.
public struct PostgresDatabaseURL: Sendable, Hashable, CustomStringConvertible {
    public struct Host: Sendable, Hashable {
        public var name: String
        public var port: Int

        public init(name: String, port: Int) {
            self.name = name
            self.port = port
        }
    }

    public var user: String
    public var password: String?
    /// At least one; the order is the order they are tried in.
    public var hosts: [Host]
    public var database: String

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses `postgres://` or `postgresql://` URLs; nil for anything else (a missing port is
    /// 5432, a missing user `postgres`, a missing database the user's name).
    public init?(_ text: String) {
        guard Self.isPostgres(text), let schemeEnd = text.range(of: "://") else { return nil }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        var credentials: Substring?
        if let at = rest.lastIndex(of: "@") {
            credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let hostList: Substring
        if let slash = rest.firstIndex(of: "/") {
            hostList = rest[..<slash]
            database = String(rest[rest.index(after: slash)...]).removingPercentEncoding ?? ""
        } else {
            hostList = rest
            database = ""
        }
        user = "postgres"
        if let credentials {
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            if parts.count == 2 { password = String(parts[1]).removingPercentEncoding }
        }
        if database.isEmpty { database = user }
        var hosts: [Host] = []
        for entry in hostList.split(separator: ",") {
            let parts = entry.split(separator: ":")
            guard !parts.isEmpty, parts.count <= 2 else { return nil }
            let port = parts.count == 2 ? Int(parts[1]) : 5432
            guard let port, (1...65535).contains(port) else { return nil }
            hosts.append(Host(name: String(parts[0]), port: port))
        }
        guard !hosts.isEmpty, !user.isEmpty else { return nil }
        self.hosts = hosts
    }

    /// The URL again, without the password.
    public var description: String {
        "postgres://\(user)@\(hosts.map { "\($0.name):\($0.port)" }.joined(separator: ","))/\(database)"
    }

    /// The hosts with their positions, `first` (the last primary found, modulo the count)
    /// first and the rest in their order: after a promotion, new connections go to the new
    /// primary at once instead of waiting out a connect timeout at a host that vanished.
    public func hosts(startingAt first: Int) -> [(index: Int, host: Host)] {
        let start = ((first % hosts.count) + hosts.count) % hosts.count
        return (0..<hosts.count).map { offset in
            let index = (start + offset) % hosts.count
            return (index, hosts[index])
        }
    }

    /// How to connect to one of the hosts; no TLS (the database is on the cluster's own network).
    public func configuration(for host: Host, connectTimeout: Duration) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host.name, port: host.port, username: user, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .milliseconds(max(connectTimeout.milliseconds, 1))
        return configuration
    }
}
