import ArgumentParser
import Foundation
import Logging
import RadonClient

/// How a command finds the cluster it talks to: the directory of a local cluster made by
/// `radonfs up`, or a metadata service address and the cluster key file.
struct ClusterLocator: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory of a local cluster started with `radonfs up`.", valueName: "dir"))
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("Address of the metadata service, HOST:PORT (with --key-file).", valueName: "host:port"))
    var meta: String?

    @Option(name: .long, help: ArgumentHelp("The cluster key file (cluster.key of the cluster directory).", valueName: "file"))
    var keyFile: String?

    func validate() throws {
        if dir != nil, meta != nil {
            throw ValidationError("give either --dir or --meta, not both")
        }
        if meta != nil, keyFile == nil {
            throw ValidationError("--meta needs --key-file (the cluster.key of the cluster)")
        }
        if let meta, WireAddress(meta) == nil {
            throw ValidationError("--meta must be HOST:PORT, not \"\(meta)\"")
        }
    }

    /// The metadata service address and the key, from whichever option was given (the
    /// environment's RADONFS_DIR, then ./run/cluster as in scripts/up.sh, when neither was).
    func resolve() throws -> (address: WireAddress, key: ClusterKey) {
        if let meta, let keyFile, let address = WireAddress(meta) {
            return (address, try readKey(keyFile))
        }
        let directory = dir ?? ProcessInfo.processInfo.environment["RADONFS_DIR"] ?? "run/cluster"
        let state = try LocalClusterState.load(from: directory)
        guard let address = state.metaAddress else {
            throw CLIError("\(LocalClusterState.path(in: directory)) names no metadata service address")
        }
        return (address, try readKey(state.keyFile))
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
        let (address, key) = try resolve()
        var logger = Logger(label: "radonfs.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(meta: address, key: key, logger: logger)
    }

    /// A client of the metadata service alone, for `status`.
    func connectMeta() async throws -> (MetaClient, WireConnectionPool) {
        let (address, key) = try resolve()
        let pool = WireConnectionPool(key: key)
        do {
            return (MetaClient(connection: try await pool.connection(to: address)), pool)
        } catch {
            await pool.closeAll()
            throw CLIError("cannot reach the metadata service at \(address): \(error)")
        }
    }
}
