import Foundation
import RadonMount
import Testing

/// The real thing: a local cluster (metadata service, six storage daemons, 4+2) started with
/// `radonfs up`, mounted by `radonfs mount`, driven by real tools.
@Suite("RadonFS mount of a real cluster", .serialized)
struct ClusterMountTests {
    /// The debug `radonfs` binary next to this test bundle.
    static let radonfs: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle.appendingPathComponent("radonfs").path,
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/radonfs").standardizedFileURL.path]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "radonfs"
    }()

    /// Starts a cluster in a fresh directory, runs `body` with (cluster dir, mount point,
    /// scratch dir), and stops it all even when `body` fails.
    func withCluster(_ body: (String, String, String) async throws -> Void) async throws {
        let directory = "/tmp/radonfs-cluster-\(UUID().uuidString.prefix(8))"
        let mountPoint = directory + "/mnt"
        try await Shell.check("radonfs up", "'\(Self.radonfs)' up --dir '\(directory)' --mount '\(mountPoint)' > '\(directory).up.log' 2>&1 || { cat '\(directory).up.log'; exit 1; }")
        let scratch = directory + "/scratch"
        var failure: (any Error)?
        do {
            #expect(MountTable.isRadonMount(mountPoint), "radonfs up did not mount \(mountPoint)")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try await body(directory, mountPoint, scratch)
        } catch {
            failure = error
        }
        let down = try await Shell.run("'\(Self.radonfs)' down --dir '\(directory)'")
        #expect(down.status == 0, "radonfs down: \(down.output) \(down.errors)")
        #expect(!MountTable.isMountPoint(mountPoint))
        if let failure { throw failure }
        _ = try? await Shell.run("rm -rf '\(directory)' '\(directory).up.log'")
    }

    @Test("POSIX semantics through the cluster mount")
    func posix() async throws {
        try await withCluster { _, mount, _ in try await MountChecks.posixSemantics(mount: mount) }
    }

    @Test("cp -a, tar and rsync of a tree of mixed sizes")
    func copyTools() async throws {
        try await withCluster { _, mount, scratch in
            try await MountChecks.copyAndDiff(mount: mount, scratch: scratch)
            try await MountChecks.tarRoundTrip(mount: mount, scratch: scratch)
            try await MountChecks.rsyncRoundTrip(mount: mount, scratch: scratch)
        }
    }

    @Test("git, sqlite3 and fio with crc32c verify")
    func applications() async throws {
        try await withCluster { _, mount, _ in
            try await MountChecks.gitWorkflow(mount: mount)
            try await MountChecks.sqliteUnderLoad(mount: mount)
            try await MountChecks.sqliteWALWithConcurrentReader(mount: mount)
            try await MountChecks.fioVerify(mount: mount)
        }
    }

    /// sqlite's WAL grows out of the inode while the other connection's process opens and
    /// closes it; that close once sent the first block, and the appends after it went out with
    /// zeros in place of the bytes already sent (the database then lost page 1).
    @Test("files growing out of the inode while other processes open and close them")
    func growWhileOthersClose() async throws {
        try await withCluster { _, mount, _ in
            try await MountChecks.growWhileOthersClose(mount: mount)
            try await MountChecks.sqliteUnderLoad(mount: mount)
            for _ in 0..<3 { try await MountChecks.sqliteWALWithConcurrentReader(mount: mount) }
        }
    }

    @Test("a second mount (radonfs mount / umount) sees the first's changes after close")
    func twoMounts() async throws {
        try await withCluster { directory, mount, _ in
            let second = directory + "/mnt2"
            try await Shell.check("radonfs mount in the background", """
                mkdir -p '\(second)'
                '\(Self.radonfs)' mount --dir '\(directory)' --log-file '\(directory)/mount2.log' '\(second)'
                grep -q ' \(second) .* - fuse.radonfs ' /proc/self/mountinfo
                """)
            do {
                try await MountChecks.closeToOpen(first: mount, second: second)
            } catch {
                _ = try? await Shell.run("'\(Self.radonfs)' umount --lazy '\(second)'")
                throw error
            }
            try await Shell.check("radonfs umount", """
                '\(Self.radonfs)' umount '\(second)'
                ! grep -q ' \(second) .* - fuse.radonfs ' /proc/self/mountinfo
                ! '\(Self.radonfs)' umount '\(second)' 2> err; grep -q 'not a RadonFS mount' err
                """)
        }
    }

    @Test("a storage daemon SIGKILLed during a fio write: fio completes and verifies")
    func storageKilledDuringWrite() async throws {
        try await withCluster { directory, mount, _ in
            try await Shell.check("fio with a storage daemon killed", """
                victim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["storage"][2]["pid"])' '\(directory)/cluster.json')
                fio --name=survive --directory='\(mount)' --ioengine=psync --rw=write --bs=1M --size=48M \
                    --verify=crc32c --do_verify=1 --verify_fatal=1 --end_fsync=1 --output-format=terse > /dev/null &
                fio_pid=$!
                sleep 2; kill -KILL "$victim"
                wait "$fio_pid"
                fio --name=reread --directory='\(mount)' --rw=read --bs=1M --size=48M --filename=survive.0.0 \
                    --verify=crc32c --verify_only=1 --output-format=terse > /dev/null
                """)
        }
    }
}
