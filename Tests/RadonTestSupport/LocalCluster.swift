import Foundation
import RadonClient
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// A real local cluster for one test: `radonfs up --no-mount` in a fresh /tmp directory, the
/// built binary's own processes on loopback, torn down (and the directory removed) afterwards
/// whatever happens. The cluster and healing tests both start clusters this way; what differs
/// between them (layout, liveness timings) is a parameter.
public final class LocalCluster: Sendable {
    /// What the tests read of DIR/cluster.json (the launcher's full record has more).
    public struct State: Decodable, Sendable {
        public struct Daemon: Decodable, Sendable {
            public var pid: Int32
            public var address: String
            public var dataPath: String
            public var logPath: String
            /// Its Prometheus endpoint (`host:port`).
            public var metricsAddress: String?
            /// A metadata server's web console (`host:port`).
            public var consoleAddress: String?
        }
        /// One PostgreSQL server of a `--meta-engine postgres` cluster.
        public struct PostgresInstance: Decodable, Sendable {
            public var dataDirectory: String
            public var port: Int
            public var logPath: String
        }

        public struct Postgres: Decodable, Sendable {
            public var primary: PostgresInstance
            public var standby: PostgresInstance?
        }

        public var keyFile: String
        /// DIR/tls of a cluster made with mutual TLS (the default); nil when made `--insecure`.
        public var tlsDirectory: String?
        public var meta: Daemon
        /// The other metadata servers of an active/standby group.
        public var additionalMetas: [Daemon]?
        public var storage: [Daemon]
        public var postgres: Postgres?
        public var mount: Mount?

        public struct Mount: Decodable, Sendable {
            public var pid: Int32
            public var mountPoint: String
            public var metricsAddress: String?
        }

        /// Every metadata server, the first one first.
        public var metas: [Daemon] { [meta] + (additionalMetas ?? []) }

        /// How a test proves itself as `identity` (`admin` by default: every role), the way
        /// the CLI does in a local cluster.
        public func credentials(identity: String = "admin") throws -> WireCredentials {
            if let tlsDirectory {
                return .mutualTLS(try WireTLSIdentity(directory: TLSDirectory(tlsDirectory), name: identity))
            }
            return .sharedKey(try ClusterKey(contentsOf: keyFile))
        }
    }

    /// The cluster directory (`radonfs … --dir`).
    public let directory: String
    public let blockSize: Int
    /// Added to our environment for every `radonfs` this cluster runs, `up` and its restarts
    /// alike, so daemons started again keep the test's timings (RADONFS_DOWN_AFTER, …).
    public let environment: [String: String]
    /// How many 10 ms polls `killStorage`/`killMeta` wait for a SIGKILLed daemon to vanish.
    let killPolls: Int

    init(directory: String, blockSize: Int, environment: [String: String], killPolls: Int) {
        self.directory = directory
        self.blockSize = blockSize
        self.environment = environment
        self.killPolls = killPolls
    }

    /// Starts a cluster of `nodes` storage daemons in a fresh /tmp/`directoryPrefix`-XXXXXXXX,
    /// runs `body`, then stops it with `radonfs down`. Whatever happens, every process of the
    /// cluster is SIGKILLed, `cleanup` runs and the directory is removed.
    ///
    /// - Parameters:
    ///   - environment: added to ours for every `radonfs` the cluster runs (see `environment`).
    ///   - killWaitPolls: how many 10 ms polls a kill waits for the daemon to vanish.
    ///   - upArguments: added to the first `up` (e.g. `LocalCluster.activeStandbyArguments()`).
    ///   - mount: mount the file system at DIR/mnt (unmounted and its process killed afterwards).
    ///   - prepare: runs on the empty directory before `up` (e.g. to mount a small tmpfs).
    ///   - cleanup: runs before the directory is removed (e.g. to unmount what `prepare` mounted).
    public static func with(
        directoryPrefix: String = "radonfs-cluster", nodes: Int = 6, layout: String = "4+2", blockSize: Int = 64 << 10,
        environment: [String: String] = [:], killWaitPolls: Int = 200, upArguments: [String] = [], mount: Bool = false,
        prepare: (String) throws -> Void = { _ in },
        cleanup: (String) -> Void = { _ in }, _ body: (LocalCluster) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(directoryPrefix)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = LocalCluster(directory: directory, blockSize: blockSize, environment: environment, killPolls: killWaitPolls)
        defer {
            cluster.killEverything()
            cleanup(directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
        try prepare(directory)
        try cluster.run(["up", "--dir", directory] + (mount ? [] : ["--no-mount"]) + ["--nodes", "\(nodes)", "--layout", layout, "--block-size", "\(blockSize)"] + upArguments)
        try await body(cluster)
        try cluster.run(["down", "--dir", directory, "--grace", "5"])
    }

    /// Runs `radonfs` with `arguments` (and the cluster's environment added to ours) and
    /// waits; returns its output, and throws with it when it fails unless `allowFailure`.
    @discardableResult
    public func run(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        try RadonBinary.run(arguments, environment: environment, outputPath: "\(directory).\(UUID().uuidString.prefix(6)).out",
                            allowFailure: allowFailure)
    }

    /// The launcher's record of the running daemons (re-read each time: restarts change pids).
    public func state() throws -> State {
        try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/cluster.json")))
    }

    /// The metadata service's address and the cluster key, from cluster.json.
    public func endpoint() throws -> ClusterEndpoint {
        let state = try state()
        guard let address = WireAddress(state.meta.address) else {
            throw TestFailure("cluster.json has no valid metadata address: \(state.meta.address)")
        }
        return ClusterEndpoint(metaAddress: address, credentials: try state.credentials())
    }

    /// A fresh client core connected to this cluster.
    public func client() async throws -> RadonFileSystemClient {
        try await endpoint().client()
    }

    /// A client of the metadata service alone. The caller closes the pool.
    public func meta() async throws -> (MetaClient, WireConnectionPool) {
        try await endpoint().meta()
    }

    /// SIGKILLs storage daemon `index` (position in cluster.json) and waits until it is gone.
    public func killStorage(_ index: Int) throws {
        LocalProcess.killAndWait(try state().storage[index].pid, polls: killPolls)
    }

    /// SIGKILLs the metadata service and waits until it is gone.
    public func killMeta() throws {
        LocalProcess.killAndWait(try state().meta.pid, polls: killPolls)
    }

    /// Restarts whatever is not running (the same data and ports), as a user would: `up` again.
    public func restart() throws {
        try run(["up", "--dir", directory, "--no-mount"])
    }

    /// The node id the metadata service gave storage daemon `index` (matched by data directory).
    public func nodeID(ofStorage index: Int) async throws -> UInt32 {
        let dataPath = try state().storage[index].dataPath
        let (meta, pool) = try await meta()
        defer { Task { await pool.closeAll() } }
        let nodes = try await meta.nodes()
        guard let node = nodes.first(where: {
            $0.dataDirectory == dataPath || dataPath.hasSuffix($0.dataDirectory) || $0.dataDirectory.hasSuffix(dataPath)
        }) else {
            throw TestFailure("no node of the metadata service has data directory \(dataPath)")
        }
        return node.id
    }

    /// Last resort after a failed test: no process of this cluster survives it.
    public func killEverything() {
        guard let state = try? state() else { return }
        if let mount = state.mount {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", mount.mountPoint]).waitUntilExit()
            kill(mount.pid, SIGKILL)
        }
        for pid in state.storage.map(\.pid) + state.metas.map(\.pid) where pid > 0 {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        if let postgres = state.postgres {
            for instance in [postgres.primary] + (postgres.standby.map { [$0] } ?? []) {
                PostgresTools.crash(dataDirectory: instance.dataDirectory)
            }
        }
    }
}
