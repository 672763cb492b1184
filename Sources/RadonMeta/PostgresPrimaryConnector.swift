import Logging
import PostgresNIO

/// Finds the primary among the hosts of a `PostgresDatabaseURL`: the first one that accepts a
/// connection and is not in recovery (`SELECT pg_is_in_recovery()` is false).
///
/// Connecting to a standby would give a read-only session whose writes fail; connecting to an
/// old primary that still runs after its standby was promoted would split the namespace. The
/// second is the operator's to prevent (`radonfs meta promote` stops the old primary first);
/// the first is prevented here, so a promotion moves every metadata server on its own.
public enum PostgresPrimaryConnector {
    /// A connection to the primary and the host's position in `url.hosts`, or an error naming
    /// what each host answered. Hosts are tried from `preferred` on (the caller's last primary).
    public static func connect(
        to url: PostgresDatabaseURL, connectTimeout: Duration = .seconds(2), preferring preferred: Int = 0, logger: Logger
    ) async throws -> (connection: PostgresConnection, host: Int) {
        var problems: [String] = []
        for (index, host) in url.hosts(startingAt: preferred) {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: url.configuration(for: host, connectTimeout: connectTimeout), id: index, logger: logger)
                do {
                    if try await !isInRecovery(connection, logger: logger) { return (connection, index) }
                    problems.append("\(host.name):\(host.port) is a standby (in recovery)")
                } catch {
                    problems.append("\(host.name):\(host.port): \(String(reflecting: error))")
                }
                try? await connection.close()
            } catch {
                problems.append("\(host.name):\(host.port): \(String(reflecting: error))")
            }
        }
        throw PostgresUnavailableError(url: url, problems: problems)
    }

    /// Whether the server behind `connection` is a standby replaying WAL (read-only).
    public static func isInRecovery(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await inRecovery in try await connection.query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self) {
            return inRecovery
        }
        return true
    }
}

/// No host of a database URL is a reachable primary.
public struct PostgresUnavailableError: Error, CustomStringConvertible {
    public var url: PostgresDatabaseURL
    public var problems: [String]

    public var description: String {
        "no PostgreSQL primary at \(url): " + problems.joined(separator: "; ")
    }
}
