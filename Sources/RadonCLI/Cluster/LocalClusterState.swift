import Foundation
import RadonWire

/// What `radonfs up` started, as it records it in `DIR/cluster.json`: enough for `down`,
/// `status`, the file verbs and a second `up` to find every process, address and directory.
struct LocalClusterState: Codable, Sendable {
    /// One daemon process.
    struct Daemon: Codable, Sendable {
        var pid: Int32
        /// The address it listens on (`host:port`).
        var address: String
        /// Its data directory (storage) or database file (meta).
        var dataPath: String
        var logPath: String
        var portFile: String
        /// Where its Prometheus `/metrics` endpoint listens (`host:port`); nil when a version
        /// without metrics by default started it.
        var metricsAddress: String?
        /// Where a metadata server's web console listens (`host:port`); nil for storage daemons
        /// and for servers a version without the console started.
        var consoleAddress: String?
    }

    struct Mount: Codable, Sendable {
        var pid: Int32
        var mountPoint: String
        var logPath: String
        var metricsAddress: String?
    }

    /// Every metrics endpoint, named as `up` and `status` list them.
    var metricsEndpoints: [(name: String, address: String)] {
        var endpoints: [(String, String?)] = metas.enumerated().map { ($0.offset == 0 ? "meta" : "meta-\($0.offset)", $0.element.metricsAddress) }
        endpoints += storage.enumerated().map { ("storage-\($0.offset)", $0.element.metricsAddress) }
        endpoints.append(("mount", mount?.metricsAddress))
        return endpoints.compactMap { name, address in address.map { (name, $0) } }
    }

    /// Every metadata server's web console, named as `up` and `status` list them.
    var consoleEndpoints: [(name: String, address: String)] {
        metas.enumerated().compactMap { index, meta in meta.consoleAddress.map { (index == 0 ? "meta" : "meta-\(index)", $0) } }
    }

    /// The console's admin token of a local cluster: made by `up`, readable by its owner only.
    static func consoleTokenPath(in directory: String) -> String { "\(directory)/console-admin-token" }

    /// The PostgreSQL that `up --meta-engine postgres` runs under DIR/postgres.
    struct Postgres: Codable, Sendable {
        /// One PostgreSQL server (postmaster): its data directory, address, port and log.
        struct Instance: Codable, Sendable {
            var dataDirectory: String
            var port: Int
            var logPath: String
            /// A former primary that a promotion left behind: `up` clones it anew from the
            /// primary before it runs again (started as it is, it would be a second primary).
            var needsRebuild: Bool?
            /// The address it listens on; nil: 127.0.0.1 (`radonfs up`). A test-bed host's address.
            var host: String?
            /// The network namespace it runs in (`/run/netns/NAME`), which its tools enter too;
            /// nil: the machine's own (`radonfs up`).
            var networkNamespace: String?

            var address: String { host ?? "127.0.0.1" }
        }

        var user: String
        var database: String
        var binDirectory: String
        /// The read-write server the metadata servers use.
        var primary: Instance
        /// Its streaming-replication standby, promoted by `radonfs meta promote`.
        var standby: Instance?

        /// The primary, then the standby if there is one.
        var servers: [Instance] { [primary] + (standby.map { [$0] } ?? []) }

        /// Every server, the primary first, as libpq names a replicated database: the metadata
        /// servers try each and use the one that is not in recovery, so they follow a promotion.
        var url: String {
            let hosts = servers.map { "\($0.address):\($0.port)" }
            return "postgres://\(user)@\(hosts.joined(separator: ","))/\(database)"
        }
    }

    /// How the volume is coded, as `up` was asked.
    var codec: String
    var dataFragments: Int
    var fragments: Int
    var blockSize: Int
    var keyFile: String
    /// The cluster's TLS directory (CA, a certificate per process, the revoked list); nil for
    /// a cluster made `--insecure` (or before TLS), whose processes prove the key in plaintext.
    var tlsDirectory: String?
    /// The first metadata server `up` started (the active one at the start).
    var meta: Daemon
    /// Further metadata servers over the same database (standbys at the start); nil or empty
    /// with one metadata server.
    var additionalMetas: [Daemon]?
    var storage: [Daemon]
    var mount: Mount?
    /// `sqlite` (nil in clusters made before there was a choice) or `postgres`.
    var metaEngine: String?
    /// The PostgreSQL servers, with the `postgres` engine.
    var postgres: Postgres?

    static func path(in directory: String) -> String { "\(directory)/cluster.json" }

    /// The certificate the CLI's commands use in a local cluster: the operator's.
    static let adminIdentity = "admin"
    /// The certificate of the mount `up` starts (and of `mount --dir`).
    static let clientIdentity = "client"

    /// The credentials of identity `identity` of this cluster (its key when `--insecure`).
    func credentials(identity: String) throws -> WireCredentials {
        try WireSecurityOptions.credentials(tlsDirectory: tlsDirectory, identity: identity, insecureKeyFile: tlsDirectory == nil ? keyFile : nil)
    }

    /// The arguments that give a daemon of this cluster identity `identity`.
    func securityArguments(identity: String) -> [String] {
        WireSecurityOptions.arguments(tlsDirectory: tlsDirectory, identity: identity, keyFile: keyFile)
    }

    static func load(from directory: String) throws -> LocalClusterState {
        let path = path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no cluster in \(directory) (\(path) is missing); start one with `radonfs up --dir \(directory)`")
        }
        do {
            return try JSONDecoder().decode(LocalClusterState.self, from: data)
        } catch {
            throw CLIError("\(path) is damaged: \(error)")
        }
    }

    func save(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let path = Self.path(in: directory)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CLIError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw CLIError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    var metaAddress: WireAddress? { WireAddress(meta.address) }

    /// Every metadata server's address, the first one first: clients try them in turn.
    var metaAddresses: [WireAddress] {
        ([meta] + (additionalMetas ?? [])).compactMap { WireAddress($0.address) }
    }

    /// Every metadata server, the first one first.
    var metas: [Daemon] { [meta] + (additionalMetas ?? []) }

    /// Every daemon pid, mount first (it must go before the daemons it talks to).
    var allPids: [Int32] {
        (mount.map { [$0.pid] } ?? []) + storage.map(\.pid) + [meta.pid] + (additionalMetas ?? []).map(\.pid)
    }
}
