import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The peer to beat: a GlusterFS dispersed volume (Debian's glusterfs-server) with one brick per
/// fragment, all on this machine, mounted through GlusterFS's own FUSE client. Volume options
/// stay at their defaults.
///
/// glusterd refuses loopback addresses as brick hosts, so the bricks are named by this
/// machine's hostname (which may still resolve to 127.0.0.1), and `force` lets several bricks
/// share one host and the root file system.
final class BenchFSGlusterFSTarget: BenchFSTarget {
    let key = "glusterfs"
    let title: String
    private let volumeName = "radonfs-bench"
    private let directory: String
    var dataDirectory: String { directory }
    private let fragments: Int
    private let redundancy: Int
    private var daemonWeStarted: pid_t?
    private var volumeCreated = false
    /// The mounts `addMounts` made (glusterfs client processes `mount` started, not ours to stop).
    private let addedMounts = BenchFSAddedMounts(stopGrace: .seconds(15))

    init(workDirectory: String, dataFragments: Int, fragments: Int) {
        directory = "\(workDirectory)/glusterfs"
        self.fragments = fragments
        redundancy = fragments - dataFragments
        title = "GlusterFS \(dataFragments)+\(fragments - dataFragments)"
    }

    private var mountPoint: String { "\(directory)/mnt" }

    func setUp() async throws -> String {
        for tool in ["gluster", "glusterd", "mount.glusterfs"] where !BenchFSSystem.isInstalled(tool) {
            throw CLIError("\(tool) is missing; install GlusterFS with `scripts/install-dependencies.sh --bench`")
        }
        try await startDaemonIfNeeded()
        try await removeLeftoverVolume()

        let host = Self.hostName()
        var bricks: [String] = []
        for index in 1...fragments {
            let brick = "\(directory)/brick\(index)"
            try FileManager.default.createDirectory(atPath: brick, withIntermediateDirectories: true)
            bricks.append("\(host):\(brick)")
        }
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)

        try await gluster(["volume", "create", volumeName, "disperse", "\(fragments)", "redundancy", "\(redundancy)"] + bricks + ["force"])
        volumeCreated = true
        try await gluster(["volume", "start", volumeName])
        try await BenchFSSystem.run("mount", ["-t", "glusterfs", "\(host):/\(volumeName)", mountPoint])
        guard await BenchFSSystem.waitUntil(timeout: .seconds(30), { LocalClusterLauncher.isMounted(mountPoint) }) else {
            throw CLIError("the GlusterFS volume did not appear at \(mountPoint); see /var/log/glusterfs/")
        }
        return mountPoint
    }

    /// The volume mounted again (`mount -t glusterfs`: a glusterfs client process each) at
    /// `mnt2`, `mnt3`, ...
    func addMounts(_ count: Int) async throws -> [String] {
        try await addedMounts.add(count, under: directory) { mountPoint, _ in
            try await BenchFSSystem.run("mount", ["-t", "glusterfs", "\(Self.hostName()):/\(volumeName)", mountPoint])
            return nil
        } failure: { mountPoint, _ in
            "the GlusterFS volume did not appear at \(mountPoint); see /var/log/glusterfs/"
        }
    }

    func tearDown() async {
        await addedMounts.removeAll()
        if LocalClusterLauncher.isMounted(mountPoint) { DownCommand.unmount(mountPoint) }
        if volumeCreated {
            _ = try? await gluster(["volume", "stop", volumeName, "force"], mustSucceed: false)
            _ = try? await gluster(["volume", "delete", volumeName], mustSucceed: false)
            volumeCreated = false
        }
        if let daemon = daemonWeStarted {
            await BackgroundProcess.stop([daemon], grace: .seconds(15))
            BackgroundProcess.reapIfExited(daemon)
            daemonWeStarted = nil
        }
    }

    /// Starts glusterd in the foreground as our child unless one already runs (then it is left
    /// alone, and only our volume is removed at the end).
    private func startDaemonIfNeeded() async throws {
        if Self.isDaemonRunning() { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        daemonWeStarted = try BenchFSSystem.start("glusterd", ["-N"], logPath: "\(directory)/glusterd.out")
        let ready = await BenchFSSystem.waitUntil(timeout: .seconds(30)) {
            (try? await gluster(["pool", "list"], mustSucceed: false))?.status == 0
        }
        guard ready else { throw CLIError("glusterd did not answer within 30 s; see /var/log/glusterfs/glusterd.log") }
    }

    /// A volume of ours left by an interrupted run would make `volume create` fail.
    private func removeLeftoverVolume() async throws {
        let list = try await gluster(["volume", "list"], mustSucceed: false)
        guard list.output.split(separator: "\n").contains(where: { $0 == volumeName }) else { return }
        _ = try await gluster(["volume", "stop", volumeName, "force"], mustSucceed: false)
        try await gluster(["volume", "delete", volumeName])
    }

    /// glusterd, the brick daemons (glusterfsd) and the FUSE clients (glusterfs).
    func servingProcesses() -> [pid_t] {
        BenchFSProcessCPU.processes { command, _ in command.hasPrefix("gluster") }
    }

    @discardableResult
    private func gluster(_ arguments: [String], mustSucceed: Bool = true) async throws -> BenchFSSystem.CommandResult {
        try await BenchFSSystem.run("gluster", ["--mode=script"] + arguments, mustSucceed: mustSucceed)
    }

    private static func isDaemonRunning() -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard Int(entry) != nil,
                  let name = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),
                  let state = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)
            else { return false }
            let running = !(state.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
            return name.trimmingCharacters(in: .whitespacesAndNewlines) == "glusterd" && running
        }
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
