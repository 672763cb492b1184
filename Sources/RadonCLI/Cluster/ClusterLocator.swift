import ArgumentParser
import Foundation
import Logging
import RadonClient
import RadonWire

/// How a command finds the cluster it talks to: the directory of a local cluster made by
/// `radonfs up`, or a metadata service address and the cluster key file.
struct ClusterLocator: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory of a local cluster started with `radonfs up`.", valueName: "dir"))
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("Address of the metadata service, HOST:PORT, or of every metadata server, comma-separated (with --key-file).", valueName: "host:port[,host:port...]"))
    var meta: String?

    @Option(name: .customLong("meta-timeout"), help: ArgumentHelp("Seconds a call waits through an outage of every metadata server (retrying, moving between servers) before it fails with EIO; RADONFS_META_TIMEOUT too.", valueName: "seconds"))
    var metaTimeout: Double = MetaHealingOptions.environment("RADONFS_META_TIMEOUT", 60)

    @Option(name: .long, help: ArgumentHelp("The cluster key file (cluster.key of the cluster directory).", valueName: "file"))
    var keyFile: String?

    func validate() throws {
        if dir != nil, meta != nil {
            throw ValidationError("give either --dir or --meta, not both")
        }
        if meta != nil, keyFile == nil {
            throw ValidationError("--meta needs --key-file (the cluster.key of the cluster)")
        }
        if let meta, WireAddress.list(meta) == nil {
            throw ValidationError("--meta must be HOST:PORT[,HOST:PORT...], not \"\(meta)\"")
        }
        guard metaTimeout > 0 else { throw ValidationError("--meta-timeout must be more than 0 seconds") }
    }

    /// `--meta-timeout` as a duration.
    var rideThrough: Duration { .milliseconds(Int64(metaTimeout * 1000)) }

    /// Every metadata server's address and the key, from whichever option was given (the
    /// environment's RADONFS_DIR, then ./run/cluster as in scripts/up.sh, when neither was).
    func resolve() throws -> (addresses: [WireAddress], key: ClusterKey) {
        if let meta, let keyFile, let addresses = WireAddress.list(meta) {
            return (addresses, try readKey(keyFile))
        }
        let directory = dir ?? ProcessInfo.processInfo.environment["RADONFS_DIR"] ?? "run/cluster"
        let state = try LocalClusterState.load(from: directory)
        let addresses = state.metaAddresses
        guard !addresses.isEmpty else {
            throw CLIError("\(LocalClusterState.path(in: directory)) names no metadata service address")
        }
        return (addresses, try readKey(state.keyFile))
    }

    private func readKey(_ path: String) throws -> ClusterKey {
        do {
            return try ClusterKey(contentsOf: path)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// A connected client core, for the file verbs.
    func connectClient() async throws -> RadonFileSystemClient {
        let (addresses, key) = try resolve()
        var logger = Logger(label: "radonfs.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(meta: addresses, key: key, logger: logger, metaTimeout: rideThrough)
    }

    /// A client of the metadata service alone, for `status` and the healing verbs: every
    /// metadata address, riding through outages for `--meta-timeout`.
    func connectMeta() async throws -> (MetaClient, WireConnectionPool) {
        let (addresses, key) = try resolve()
        let pool = WireConnectionPool(key: key)
        var logger = Logger(label: "radonfs.client")
        logger.logLevel = .error
        return (MetaClient(transport: MetaFailover(addresses: addresses, pool: pool, rideThrough: rideThrough, logger: logger)), pool)
    }
}
