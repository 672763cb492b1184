import ArgumentParser
import Foundation
import Logging
import RadonClient
import RadonWire

/// How a command finds the cluster it talks to and proves itself: the directory of a local
/// cluster made by `radonfs up` (its TLS files, or its key when made `--insecure`), or the
/// metadata addresses with a certificate (`--tls-dir`, `--identity`) or `--insecure --key-file`.
struct ClusterLocator: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory of a local cluster started with `radonfs up`.", valueName: "dir"))
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("Address of the metadata service, HOST:PORT, or of every metadata server, comma-separated (with --tls-dir and --identity, or --insecure --key-file).", valueName: "host:port[,host:port...]"))
    var meta: String?

    @Option(name: .customLong("meta-timeout"), help: ArgumentHelp("Seconds a call waits through an outage of every metadata server (retrying, moving between servers) before it fails with EIO; RADONFS_META_TIMEOUT too.", valueName: "seconds"))
    var metaTimeout: Double = MetaHealingOptions.environment("RADONFS_META_TIMEOUT", 60)

    @OptionGroup(title: "Security") var security: WireSecurityOptions

    func validate() throws {
        if dir != nil, meta != nil {
            throw ValidationError("give either --dir or --meta, not both")
        }
        if meta != nil, !security.isGiven || (security.tlsDir == nil && !security.insecure) {
            throw ValidationError("--meta needs --tls-dir and --identity (a certificate of the cluster), or --insecure --key-file")
        }
        if meta == nil, security.isGiven {
            throw ValidationError("--tls-dir and --key-file go with --meta; a local cluster directory has its own (--identity NAME picks one of its certificates)")
        }
        if let meta, WireAddress.list(meta) == nil {
            throw ValidationError("--meta must be HOST:PORT[,HOST:PORT...], not \"\(meta)\"")
        }
        guard metaTimeout > 0 else { throw ValidationError("--meta-timeout must be more than 0 seconds") }
    }

    /// `--meta-timeout` as a duration.
    var rideThrough: Duration { .milliseconds(Int64(metaTimeout * 1000)) }

    /// Every metadata server's address and the credentials, from whichever option was given
    /// (the environment's RADONFS_DIR, then ./run/cluster as in scripts/up.sh, when neither
    /// was). In a local cluster the command uses the certificate `--identity` names in its TLS
    /// directory, else `localIdentity`, which `up` made.
    func resolve(localIdentity: String = LocalClusterState.adminIdentity) throws -> (addresses: [WireAddress], credentials: WireCredentials) {
        if let meta, let addresses = WireAddress.list(meta) {
            return (addresses, try security.credentials())
        }
        let directory = dir ?? ProcessInfo.processInfo.environment["RADONFS_DIR"] ?? "run/cluster"
        let state = try LocalClusterState.load(from: directory)
        let addresses = state.metaAddresses
        guard !addresses.isEmpty else {
            throw CLIError("\(LocalClusterState.path(in: directory)) names no metadata service address")
        }
        return (addresses, try state.credentials(identity: security.identity ?? localIdentity))
    }

    /// A connected client core, for the file verbs.
    func connectClient() async throws -> RadonFileSystemClient {
        let (addresses, credentials) = try resolve()
        var logger = Logger(label: "radonfs.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(meta: addresses, credentials: credentials, logger: logger, metaTimeout: rideThrough)
    }

    /// A client of the metadata service alone, for `status` and the healing verbs: every
    /// metadata address, riding through outages for `--meta-timeout`.
    func connectMeta() async throws -> (MetaClient, WireConnectionPool) {
        let (addresses, credentials) = try resolve()
        let pool = WireConnectionPool(credentials: credentials)
        var logger = Logger(label: "radonfs.client")
        logger.logLevel = .error
        return (MetaClient(transport: MetaFailover(addresses: addresses, pool: pool, rideThrough: rideThrough, logger: logger)), pool)
    }

    /// Runs `body` with a metadata client (`connectMeta`), closes it after, and turns a
    /// failure into one clear line.
    func withMeta<Result>(_ body: (MetaClient) async throws -> Result) async throws -> Result {
        let (meta, pool) = try await connectMeta()
        do {
            let result = try await body(meta)
            await pool.closeAll()
            return result
        } catch {
            await pool.closeAll()
            throw error as? CLIError ?? CLIError("\(error)")
        }
    }
}
