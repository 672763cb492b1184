import Foundation
import RadonClient
import RadonConsole
import RadonWire

/// The metadata servers of a local cluster: one over SQLite, or an active/standby group over a
/// local replicated PostgreSQL (`LocalPostgres`) that holds the namespace and elects the active one.
extension LocalClusterLauncher {
    /// What `startMetaGroup` started.
    struct MetaGroup {
        var engine: String
        var metas: [LocalClusterState.Daemon]
        var postgres: LocalClusterState.Postgres?
    }

    static let metaEngines = ["sqlite", "postgres"]

    /// Starts PostgreSQL (with the `postgres` engine) and every metadata server that is not
    /// running, on their old ports.
    func startMetaGroup(previous: LocalClusterState?, tlsDirectory: String?) async throws -> MetaGroup {
        let engine = previous?.metaEngine ?? metaEngine ?? "sqlite"
        if let metaEngine, metaEngine != engine {
            throw CLIError("the cluster in \(directory) keeps its metadata in \(engine); it cannot change to \(metaEngine)")
        }
        let count = metaServers ?? previous.map { $0.metas.count } ?? (engine == "postgres" ? 2 : 1)
        guard count == 1 || engine == "postgres" else {
            throw CLIError("--meta-servers \(count) needs --meta-engine postgres (the servers elect the active one through it)")
        }
        let postgres = engine == "postgres"
            ? try LocalPostgres(clusterDirectory: directory).ensureRunning(previous: previous?.postgres) : nil
        if let postgres, var saved = previous {
            // Recorded at once: a failure below must not lose which server is the primary now.
            saved.postgres = postgres
            try saved.save(in: directory)
        }
        // The namespace lives in PostgreSQL when there is one (the servers elect through it too),
        // else in the SQLite file.
        let database = postgres?.url ?? "\(directory)/meta/meta.db"
        let consoleToken = try Self.ensureConsoleToken(in: directory)
        var metas: [LocalClusterState.Daemon] = []
        for index in 0..<count {
            let old = index == 0 ? previous?.meta : previous?.additionalMetas.flatMap { $0.indices.contains(index - 1) ? $0[index - 1] : nil }
            let name = Self.metaName(index)
            metas.append(try await startDaemon(
                previous: old, name: name, dataPath: database, servesConsole: true,
                arguments: { listen, portFile in
                    ["meta", "--db", database, "--listen", listen, "--port-file", portFile, "--console-admin-token-file", consoleToken]
                        + WireSecurityOptions.arguments(tlsDirectory: tlsDirectory, identity: name, keyFile: keyFile)
                }))
        }
        return MetaGroup(engine: engine, metas: metas, postgres: postgres)
    }

    /// DIR/console-admin-token, made (mode 0600) at the first `up`: the admin token every
    /// metadata server's console accepts.
    static func ensureConsoleToken(in directory: String) throws -> String {
        let path = LocalClusterState.consoleTokenPath(in: directory)
        if (try? ConsoleAdminToken(file: path)) == nil {
            try PrivateState.writeFile(Array((ConsoleAdminToken.random() + "\n").utf8), to: path)
        }
        return path
    }

    /// The process (and certificate) name of metadata server `index`.
    static func metaName(_ index: Int) -> String {
        index == 0 ? "meta" : "meta-\(index)"
    }

    /// The `--meta` given to the storage daemons and the mount.
    /// Every server's address, comma-separated: clients ask the next one when one is down or
    /// answers `notActive` (a standby), so they follow a failover.
    static func metaOption(_ metas: [LocalClusterState.Daemon]) -> String {
        metas.map(\.address).joined(separator: ",")
    }

    /// The active server among `addresses` and its status; standbys answer `notActive`.
    static func activeMeta(among addresses: [WireAddress], pool: WireConnectionPool) async throws -> (MetaClient, ClusterStatus) {
        var lastError: (any Error)?
        for address in addresses {
            do {
                let meta = MetaClient(connection: try await pool.connection(to: address))
                return (meta, try await meta.status())
            } catch {
                lastError = error
            }
        }
        throw lastError ?? CLIError("no metadata server")
    }
}
