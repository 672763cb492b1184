import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// RadonFS itself: a fresh local cluster (one storage daemon per fragment) started by this very
/// binary with `radonfs up`, mounted through FUSE, and stopped with `radonfs down`. The
/// metadata engine is SQLite with one metadata server (`radonfs`), or PostgreSQL with a
/// streaming standby and two metadata servers, active and standby (`radonfs-pg`); both run
/// mutual TLS, and `radonfs-insecure` is the SQLite cluster in plaintext, to price TLS.
final class BenchFSRadonFSTarget: BenchFSTarget {
    /// Which cluster `up` makes.
    enum Variant: String, CaseIterable {
        case sqlite = "radonfs"
        case postgres = "radonfs-pg"
        case insecure = "radonfs-insecure"

        /// What `radonfs up` is told to get it.
        var upArguments: [String] {
            switch self {
            case .sqlite: []
            case .postgres: ["--meta-engine", "postgres", "--meta-servers", "2"]
            case .insecure: ["--insecure"]
            }
        }

        func title(layout: String) -> String {
            switch self {
            case .sqlite: "RadonFS \(layout)"
            case .postgres: "RadonFS \(layout) PG"
            case .insecure: "RadonFS \(layout) plaintext"
            }
        }
    }

    let key: String
    let title: String
    private let directory: String
    var dataDirectory: String { directory }
    private let layout: String
    private let fragments: Int
    private let extraArguments: [String]
    private var launcher: pid_t?
    private var clusterStarted = false
    /// The mounts `addMounts` started: `radonfs mount` processes of this binary.
    private let addedMounts = BenchFSAddedMounts(stopGrace: .seconds(10))

    init(workDirectory: String, dataFragments: Int, fragments: Int, engine: Variant = .sqlite, extraArguments: [String]) {
        key = engine.rawValue
        directory = "\(workDirectory)/\(engine.rawValue)"
        layout = "\(dataFragments)+\(fragments - dataFragments)"
        self.fragments = fragments
        self.extraArguments = engine.upArguments + extraArguments
        title = engine.title(layout: layout)
    }

    private var mountPoint: String { "\(directory)/mnt" }
    private var launcherLog: String { "\(directory)/up.out" }

    func setUp() async throws -> String {
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let arguments = ["up", "--dir", directory, "--nodes", "\(fragments)", "--layout", layout, "--mount", mountPoint]
            + extraArguments
        // `up` returns once the cluster serves and the mount is recorded in cluster.json (the
        // mount pid is read from there for --profile), so wait for it to exit, then the mount.
        let launcher = try BenchFSSystem.start(BackgroundProcess.currentExecutable(), arguments, logPath: launcherLog)
        self.launcher = launcher
        clusterStarted = true
        var launcherStatus: Int32 = -1
        _ = await BenchFSSystem.waitUntil(timeout: .seconds(120)) {
            if waitpid(launcher, &launcherStatus, WNOHANG) == launcher {
                self.launcher = nil
            }
            return self.launcher == nil
        }
        guard self.launcher == nil, launcherStatus == 0, LocalClusterLauncher.isMounted(mountPoint) else {
            throw CLIError("`radonfs \(arguments.joined(separator: " "))` did not mount \(mountPoint):\n"
                + BackgroundProcess.lastLines(of: launcherLog))
        }
        return mountPoint
    }

    /// More `radonfs mount` processes of the cluster, as `up` starts its own (the same meta
    /// servers, the `client` certificate), at `mnt2`, `mnt3`, ... beside the first.
    func addMounts(_ count: Int) async throws -> [String] {
        guard count > 0 else { return [] }
        let state = try LocalClusterState.load(from: directory)
        let logPath = { (number: Int) in "\(self.directory)/mount\(number).log" }
        return try await addedMounts.add(count, under: directory) { mountPoint, number in
            try BenchFSSystem.start(
                BackgroundProcess.currentExecutable(),
                ["mount", "--meta", LocalClusterLauncher.metaOption(state.metas), "-f", mountPoint]
                    + state.securityArguments(identity: LocalClusterState.clientIdentity),
                logPath: logPath(number))
        } failure: { mountPoint, number in
            "`radonfs mount` did not mount \(mountPoint):\n" + BackgroundProcess.lastLines(of: logPath(number))
        }
    }

    func tearDown() async {
        await addedMounts.removeAll()
        if clusterStarted {
            _ = try? await BenchFSSystem.run(BackgroundProcess.currentExecutable(), ["down", "--dir", directory], mustSucceed: false)
            clusterStarted = false
        }
        if let launcher {
            await BackgroundProcess.stop([launcher])
            self.launcher = nil
        }
        if LocalClusterLauncher.isMounted(mountPoint) { DownCommand.unmount(mountPoint) }
    }

    /// The mount, the storage daemons, the metadata servers and, with PostgreSQL, every process
    /// of its primary and standby (each postmaster and its children), from the state `up`
    /// records.
    func servingProcesses() -> [pid_t] {
        guard let state = try? LocalClusterState.load(from: directory) else { return [] }
        var pids = state.allPids + addedMounts.processes
        if let postgres = state.postgres {
            let local = LocalPostgres(state: postgres, clusterDirectory: directory)
            let masters = postgres.servers.compactMap { local.pid(of: $0) }
            pids += masters
            pids += BenchFSProcessCPU.processes { _, parent in masters.contains(parent) }
        }
        return pids
    }

    /// The FUSE mount process, from the state `up` records.
    var profiledProcess: pid_t? {
        (try? LocalClusterState.load(from: directory))?.mount?.pid
    }
}
