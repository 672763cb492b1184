import Foundation
import RadonMount
import RadonTestSupport
import Testing

/// The real thing: a local cluster (metadata service, six storage daemons, 4+2) started with
/// `radonfs up`, mounted by `radonfs mount`, driven by real tools.
@Suite("RadonFS mount of a real cluster", .serialized)
struct ClusterMountTests {
    /// The built `radonfs` binary.
    static let radonfs = RadonBinary.path

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

    /// Small reads of a file take only the bytes they need from the one data fragment holding
    /// them (systematic codes), read through a second mount so no cached block answers: right
    /// bytes at line and block edges; a corrupted data fragment is noticed by its node, the read
    /// falls back to the whole block and repairs it; a killed data node also falls back.
    @Test("small reads from the data fragments: edges, a corrupt fragment repaired, a killed node")
    func rangeReads() async throws {
        try await withCluster { directory, mount, scratch in
            try await Shell.check("range reads through a fresh mount", """
                head -c 9000000 /dev/urandom > '\(scratch)/rand.bin'
                cp '\(scratch)/rand.bin' '\(mount)/rand.bin'
                mkdir -p '\(directory)/fresh'
                python3 - '\(directory)' '\(scratch)/rand.bin' '\(Self.radonfs)' <<'PY'
                import os, sys, random, glob, json, subprocess, time
                directory, source, radonfs = sys.argv[1:4]
                src = open(source, "rb").read()
                fresh_mount = directory + "/fresh"
                L, B = 262144, 1 << 20
                def mount():
                    subprocess.run([radonfs, "mount", "--dir", directory, "--log-level", "trace",
                                    "--log-file", directory + "/fresh.log", fresh_mount], check=True, capture_output=True)
                def umount():
                    subprocess.run([radonfs, "umount", fresh_mount], check=True, capture_output=True)
                def check(ranges, what):
                    mount()
                    try:
                        fd = os.open(fresh_mount + "/rand.bin", os.O_RDONLY)
                        for offset, count in ranges:
                            got = os.pread(fd, count, offset)
                            assert got == src[offset:offset + count], f"{what}: wrong bytes at {offset} (+{count})"
                        os.close(fd)
                    finally:
                        umount()
                    log = open(directory + "/fresh.log").read()
                    open(directory + "/fresh.log", "w").close()
                    return log.count("] range read\\n"), log.count("range read falls back")
                edges = []
                for block in range(8):
                    for line in range(4):
                        edge = block * B + line * L
                        edges += [(edge, 4096), (edge - 4096, 4096), (edge - 10, 20), (edge + 100000, 3000)]
                edges = [(o, c) for o, c in edges if o >= 0] + [(len(src) - 4096, 4096), (len(src) - 5000, 6000)]
                seed = random.randrange(1 << 30); random.seed(seed); print("range read order seed:", seed)
                random.shuffle(edges)
                check(edges, "edges")
                # Reads far from each other, so neither the kernel's read-ahead (which widens a
                # read that follows cached pages) nor the client's prefetch of a sequential
                # neighbour turns them into whole-block reads: each is a range read unless the
                # range path fails.
                apart = [(block * B + line * L + 100000, 3000) for block in range(8) for line in range(4)]
                random.shuffle(apart)
                served, fellBack = check(apart, "reads apart")
                assert served >= 24, f"only {served} of {len(apart)} reads apart were range reads ({fellBack} fell back)"
                # The file's inode and group: its fragment files are g<group>/<inode>.<fragment>.
                def fragment_file(fragment):
                    found = [p for p in glob.glob(directory + f"/storage/node-*/g*/*.{fragment}") if not p.endswith(".prev")]
                    assert len(found) == 1, found
                    return found[0]
                target = fragment_file(1)
                position = 64 + 32 + 5000      # file header, slot header, then byte 5000 of line 1 of block 0
                with open(target, "r+b") as f:
                    f.seek(position); original = f.read(1); f.seek(position); f.write(bytes([original[0] ^ 0xFF]))
                served, fellBack = check([(L + 4096, 4096)], "corrupt fragment")
                assert fellBack >= 1, "a corrupt data fragment must send the read to the whole block"
                for _ in range(50):
                    with open(target, "rb") as f:
                        f.seek(position)
                        if f.read(1) == original: break
                    time.sleep(0.1)
                else:
                    raise AssertionError("the corrupt fragment was not repaired")
                # A data node killed: its lines come from the whole-block path.
                cluster = json.load(open(directory + "/cluster.json"))
                holder = target.split("/storage/node-")[1].split("/")[0]
                victim = [s for s in cluster["storage"] if s["dataPath"].endswith("/node-" + holder)]
                assert len(victim) == 1, f"no storage node node-{holder} in cluster.json"
                os.kill(victim[0]["pid"], 9); time.sleep(0.5)
                ranges = [(b * B + L + 12345, 4096) for b in range(8)] + [(b * B + 2 * L + 777, 5000) for b in range(8)]
                check(ranges, "killed data node")
                PY
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
