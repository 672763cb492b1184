import Foundation
import RadonClient
import RadonMount
import Testing

/// The FUSE layer alone: `FUSEMount` over the in-memory file system, mounted in this process
/// and driven by real tools. Proves the glue (every callback, reply and capability) apart from
/// the cluster.
@Suite("FUSE glue over an in-memory file system", .serialized)
struct FUSEGlueTests {
    /// Mounts a fresh in-memory file system, runs `body` with the mount point and a scratch
    /// directory, and unmounts even when `body` fails.
    func withMount(_ body: (String, String) async throws -> Void) async throws {
        let mount = try await InProcessMount.start(InMemoryFileSystem())
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-scratch-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        do {
            try await body(mount.path, scratch)
        } catch {
            try? await mount.stop()
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        try await mount.stop()
        try? FileManager.default.removeItem(atPath: scratch)
        #expect(!MountTable.isMountPoint(mount.path))
    }

    @Test("POSIX semantics through the mount")
    func posix() async throws {
        try await withMount { mount, _ in try await MountChecks.posixSemantics(mount: mount) }
    }

    @Test("cp -a, tar and rsync of a tree of mixed sizes")
    func copyTools() async throws {
        try await withMount { mount, scratch in
            try await MountChecks.copyAndDiff(mount: mount, scratch: scratch)
            try await MountChecks.tarRoundTrip(mount: mount, scratch: scratch)
            try await MountChecks.rsyncRoundTrip(mount: mount, scratch: scratch)
        }
    }

    @Test("git, sqlite3 and fio")
    func applications() async throws {
        try await withMount { mount, _ in
            try await MountChecks.gitWorkflow(mount: mount)
            try await MountChecks.sqliteUnderLoad(mount: mount)
            try await MountChecks.sqliteWALWithConcurrentReader(mount: mount)
            try await MountChecks.growWhileOthersClose(mount: mount)
            try await MountChecks.fioVerify(mount: mount)
        }
    }

    @Test("two mounts of one file system see each other's changes after close")
    func closeToOpen() async throws {
        let shared = InMemoryFileSystem()
        let first = try await InProcessMount.start(shared)
        let second = try await InProcessMount.start(shared)
        defer {
            Task {
                try? await first.stop()
                try? await second.stop()
            }
        }
        try await MountChecks.closeToOpen(first: first.path, second: second.path)
        try await first.stop()
        try await second.stop()
    }

    @Test("flock, fcntl and OFD locks hold between two mounts of one file system")
    func locks() async throws {
        let shared = InMemoryFileSystem()
        let first = try await InProcessMount.start(shared)
        let second = try await InProcessMount.start(shared)
        do {
            try await MountChecks.locksAcrossMounts(first: first.path, second: second.path)
        } catch {
            try? await first.stop()
            try? await second.stop()
            throw error
        }
        try await first.stop()
        try await second.stop()
    }

    @Test("the mount's kernel read-ahead is widened to 1 MiB after INIT")
    func readAhead() async throws {
        let mount = try await InProcessMount.start(InMemoryFileSystem())
        try await Task.sleep(for: .milliseconds(600))
        let device = MountTable.entry(at: mount.path)?.device ?? "none"
        let result = try await Shell.run("cat /sys/class/bdi/\(device)/read_ahead_kb")
        try await mount.stop()
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1024", "read_ahead_kb: \(result.output) \(result.errors)")
    }

    @Test("umount of a busy mount fails clearly; lazy unmount ends the session")
    func unmountBusy() async throws {
        let mount = try await InProcessMount.start(InMemoryFileSystem())
        let holder = Task { try await Shell.run("cd '\(mount.path)' && sleep 3") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(throws: MountError.busy(mount.path)) { try Unmount.unmount(mount.path, lazy: false) }
        _ = try await holder.value
        try await mount.stop()
        #expect(!MountTable.isMountPoint(mount.path))
        #expect(throws: MountError.notMounted(mount.path)) { try Unmount.unmount(mount.path, lazy: false) }
    }
}
