import Foundation
import RadonMount
import RadonTestSupport
import Testing

/// Several mounts (separate `radonfs mount` processes) of one cluster, as several machines
/// sharing one file system: close-to-open consistency, writers of one file on several clients,
/// files unlinked while open elsewhere, and a mount that dies.
///
/// The cluster runs with a 4 s session lease and a 3 s write-back, so a dead client's holds
/// lapse and unflushed writes reach the nodes within the test's patience.
@Suite("Many mounts of one cluster", .serialized)
struct MultiMountTests {
    static let radonfs = RadonBinary.path
    static let environment = ["RADONFS_SESSION_LEASE": "4", "RADONFS_WRITE_BACK": "3"]

    /// A cluster with `mounts` mount points (the first from `radonfs up`, the others from
    /// `radonfs mount`); `body` gets the cluster directory and the mount points. Everything is
    /// unmounted and stopped even when `body` fails.
    func withMounts(_ mounts: Int, _ body: (String, [String]) async throws -> Void) async throws {
        let directory = "/tmp/radonfs-multi-\(UUID().uuidString.prefix(8))"
        let points = (0..<mounts).map { "\(directory)/m\($0)" }
        let up = try await Shell.run(
            "'\(Self.radonfs)' up --dir '\(directory)' --mount '\(points[0])' --trash-retention 0 > '\(directory).up.log' 2>&1 || { cat '\(directory).up.log'; exit 1; }",
            environment: Self.environment)
        try #require(up.status == 0, "radonfs up: \(up.output)")
        var failure: (any Error)?
        do {
            for point in points.dropFirst() {
                try await Shell.check("radonfs mount \(point)", """
                    mkdir -p '\(point)'
                    '\(Self.radonfs)' mount --dir '\(directory)' --write-back 3 --log-file '\(point).log' '\(point)'
                    """)
            }
            try await body(directory, points)
        } catch {
            failure = error
        }
        for point in points.dropFirst() { _ = try? await Shell.run("'\(Self.radonfs)' umount --lazy '\(point)'") }
        let down = try await Shell.run("'\(Self.radonfs)' down --dir '\(directory)'")
        #expect(down.status == 0, "radonfs down: \(down.output) \(down.errors)")
        if let failure { throw failure }
        _ = try? await Shell.run("rm -rf '\(directory)' '\(directory).up.log'")
    }

    @Test("writers on three mounts: disjoint ranges all survive, at every size, after close, fsync or write-back")
    func disjointWriters() async throws {
        try await withMounts(3) { _, mounts in
            try await Shell.check("disjoint writers", """
                python3 - '\(mounts[0])' '\(mounts[1])' '\(mounts[2])' <<'PY'
                import os, sys, time
                mounts = sys.argv[1:4]
                failures = []
                def expect(path, size, marks):
                    with open(path, "rb") as f: data = f.read()
                    if len(data) != size: return f"size {len(data)} != {size}"
                    for offset, byte in marks:
                        if data[offset:offset + 100] != bytes([byte]) * 100:
                            return f"range at {offset} holds {data[offset:offset + 100][:8]!r}, not {byte}"
                    return None
                for mode in ("close", "fsync", "write-back"):
                    for size in (3000, 5000, 65536, 300000, 1 << 20, 3 << 20):
                        name = f"{mode}-{size}"
                        with open(os.path.join(mounts[0], name), "wb") as f: f.write(b"\\0" * size)
                        # Each writer takes its own 100 bytes; two of them share one block (and, for
                        # the 3000- and 5000-byte files, the inode or the only block).
                        marks = [(0, 0x41), (size // 2, 0x42), (size // 2 + 200, 0x43)]
                        fds = [os.open(os.path.join(m, name), os.O_RDWR) for m in mounts]
                        for fd, (offset, byte) in zip(fds, marks): os.pwrite(fd, bytes([byte]) * 100, offset)
                        if mode == "fsync":
                            for fd in fds: os.fsync(fd)
                        if mode == "write-back":
                            # Nobody closes or syncs: the write-back (3 s) alone brings every range to
                            # the nodes, the writers taking turns with the data token.
                            deadline = time.time() + 40
                            while expect(os.path.join(mounts[2], name), size, marks) and time.time() < deadline:
                                time.sleep(1)
                        # A later open on every mount sees all three ranges (fsync and write-back: while
                        # the writers still hold their descriptors).
                        if mode != "close":
                            for m in mounts:
                                problem = expect(os.path.join(m, name), size, marks)
                                if problem: failures.append(f"{name} read on {m}: {problem}")
                        for fd in fds: os.close(fd)
                        for m in mounts:
                            problem = expect(os.path.join(m, name), size, marks)
                            if problem: failures.append(f"{name} after close, read on {m}: {problem}")
                # A MAP_SHARED write, msync'd and closed on one mount, is what another mount's open reads.
                import mmap
                with open(os.path.join(mounts[0], "mapped"), "wb") as f: f.write(b"\\0" * 300000)
                with open(os.path.join(mounts[0], "mapped"), "r+b") as f:
                    view = mmap.mmap(f.fileno(), 300000)
                    view[1000:1005] = b"mmap!"
                    view[299990:300000] = b"0123456789"
                    view.flush()
                    view.close()
                with open(os.path.join(mounts[1], "mapped"), "rb") as f: mapped = f.read()
                if mapped[1000:1005] != b"mmap!" or mapped[299990:] != b"0123456789":
                    failures.append("a MAP_SHARED write msync'd and closed on one mount is not read on another")
                print("\\n".join(failures) or "all ranges survived")
                sys.exit(1 if failures else 0)
                PY
                """)
        }
    }

    @Test("a file unlinked or renamed over while open on another mount stays usable there, and is freed after the last close or the holder's death; a name cached here but unlinked there opens as gone")
    func unlinkedWhileOpenElsewhere() async throws {
        try await withMounts(2) { directory, mounts in
            try await Shell.check("unlinked while open elsewhere", """
                python3 - '\(directory)' '\(mounts[0])' '\(mounts[1])' <<'PY'
                import glob, os, signal, subprocess, sys, time
                directory, a, b = sys.argv[1:4]
                def fragments(inode):
                    return glob.glob(f"{directory}/storage/node-*/g*/{inode}.*")
                def wait_until(condition, what, seconds):
                    deadline = time.time() + seconds
                    while not condition():
                        if time.time() > deadline: sys.exit(f"not within {seconds} s: {what}")
                        time.sleep(0.25)
                for size, how in ((100, "unlink"), (300000, "unlink"), (2 << 20, "rename")):
                    name = f"victim-{size}"
                    with open(os.path.join(a, name), "wb") as f: f.write(b"x" * size)
                    inode = os.stat(os.path.join(a, name)).st_ino
                    fd = os.open(os.path.join(b, name), os.O_RDWR)
                    if how == "unlink":
                        os.unlink(os.path.join(a, name))
                    else:
                        with open(os.path.join(a, "replacement"), "wb") as f: f.write(b"r")
                        os.rename(os.path.join(a, "replacement"), os.path.join(a, name))
                    time.sleep(1.2)  # past the attribute timeout, so fstat asks the service
                    st = os.fstat(fd)
                    assert st.st_nlink == 0, f"nlink {st.st_nlink} after {how}"
                    assert st.st_size == size, f"size {st.st_size}"
                    assert os.pread(fd, size, 0) == b"x" * size, "the data went with the name"
                    os.pwrite(fd, b"y" * 10, size - 10)
                    os.fsync(fd)
                    assert os.pread(fd, size, 0) == b"x" * (size - 10) + b"y" * 10
                    if size > 4096: assert fragments(inode), "fragments freed while open"
                    os.close(fd)
                    wait_until(lambda: not fragments(inode), f"fragments of {inode} freed after the last close", 15)
                    # The mount sends the close after close(2) returns: an inline file (no
                    # fragments to wait for) may still be held for a moment.
                    def inode_rows():
                        return subprocess.run(["sqlite3", "-cmd", ".timeout 5000", f"{directory}/meta/meta.db",
                                               f"SELECT count(*) FROM inode WHERE id = {inode}"],
                                              capture_output=True, text=True).stdout.strip()
                    wait_until(lambda: inode_rows() == "0", f"inode {inode} freed after the last close", 15)
                # A name this mount still caches, unlinked on the other: open(O_CREAT) makes a
                # new file (sqlite's journals), open without it and stat say ENOENT.
                for i in range(20):
                    name = f"cached-{i}"
                    with open(os.path.join(a, name), "wb") as f: f.write(b"old")
                    os.stat(os.path.join(b, name))
                    os.unlink(os.path.join(a, name))
                    if i % 2:
                        try: os.open(os.path.join(b, name), os.O_RDONLY); sys.exit("opened an unlinked file")
                        except FileNotFoundError: pass
                        continue
                    fd = os.open(os.path.join(b, name), os.O_CREAT | os.O_RDWR, 0o644)
                    assert os.fstat(fd).st_size == 0, "O_CREAT reopened the unlinked file"
                    os.close(fd)
                # A mount that dies holding an unlinked file: freed once its session lapses (4 s).
                with open(os.path.join(a, "held"), "wb") as f: f.write(b"h" * 500000)
                inode = os.stat(os.path.join(a, "held")).st_ino
                holder = subprocess.Popen(["python3", "-c", f"import os,time; fd=os.open({os.path.join(b, 'held')!r}, os.O_RDONLY); print('open', flush=True); time.sleep(600)"],
                                          stdout=subprocess.PIPE, text=True)
                assert holder.stdout.readline().strip() == "open"
                os.unlink(os.path.join(a, "held"))
                time.sleep(2)
                assert fragments(inode), "freed while the other mount holds it open"
                mount_pids = subprocess.run(["pgrep", "-f", f"mount -f .* {b}$"], capture_output=True, text=True).stdout.split()
                assert mount_pids, "no mount process for " + b
                killed = time.time()
                for p in mount_pids: os.kill(int(p), signal.SIGKILL)
                holder.kill()
                subprocess.run(["umount", "-l", b])
                wait_until(lambda: not fragments(inode), "fragments of a dead client's orphan freed after its lease", 30)
                print(f"orphan of the killed mount freed {time.time() - killed:.1f} s after the kill")
                PY
                """)
        }
    }

    /// Random operations from two mounts on a small (inline) and a large (block) file, every
    /// read checked against a model of close-to-open consistency: what a writer closed or
    /// fsync'd is what every later open reads; bytes an open writer has not published yet may
    /// read either way. Writers open at the same time write disjoint bytes. The seed is printed,
    /// so a failure can be replayed (RADONFS_MODEL_SEED).
    @Test("random operations from two mounts agree with a close-to-open model")
    func closeToOpenModel() async throws {
        let seed = ProcessInfo.processInfo.environment["RADONFS_MODEL_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999)
        print("close-to-open model seed: \(seed) (replay with RADONFS_MODEL_SEED=\(seed))")
        try await withMounts(2) { _, mounts in
            try await Shell.check("close-to-open model, seed \(seed)", """
                python3 - '\(mounts[0])' '\(mounts[1])' \(seed) <<'PY'
                import os, random, sys
                mounts, seed = sys.argv[1:3], int(sys.argv[3])
                rng = random.Random(seed)
                files = {"small": 3000, "large": (2 << 20) + 12345}
                model = {}
                for name, size in files.items():
                    data = bytearray(rng.randbytes(size))
                    with open(os.path.join(mounts[0], name), "wb") as f: f.write(data)
                    model[name] = data
                # Open writers: (mount index, file) -> {"fd", "pending": [(offset, bytes)], "claimed": set of byte chunks}
                writers = {}
                CHUNK = 512
                def claimed_by_others(key):
                    return set().union(*(w["claimed"] for k, w in writers.items() if k != key and k[1] == key[1]))
                def verify(step, mount, name):
                    with open(os.path.join(mounts[mount], name), "rb") as f: data = f.read()
                    expected = model[name]
                    if len(data) != len(expected): sys.exit(f"step {step}: {name} on mount {mount} has {len(data)} bytes, model {len(expected)}")
                    unsettled = set().union(*(w["claimed"] for k, w in writers.items() if k[1] == name)) if writers else set()
                    for chunk in range(0, len(data), CHUNK):
                        if chunk // CHUNK in unsettled: continue
                        if data[chunk:chunk + CHUNK] != expected[chunk:chunk + CHUNK]:
                            sys.exit(f"step {step}: {name} on mount {mount} differs from the model at {chunk} (seed {seed})")
                steps = 160
                for step in range(steps):
                    action = rng.random()
                    mount, name = rng.randrange(2), rng.choice(list(files))
                    key = (mount, name)
                    if action < 0.35:
                        w = writers.get(key)
                        if w is None:
                            w = writers[key] = {"fd": os.open(os.path.join(mounts[mount], name), os.O_RDWR), "pending": [], "claimed": set()}
                        taken = claimed_by_others(key)
                        free = [c for c in range(files[name] // CHUNK) if c not in taken]
                        if not free: continue
                        start = rng.choice(free)
                        count = 1
                        while count < 8 and start + count < files[name] // CHUNK and start + count not in taken and rng.random() < 0.7: count += 1
                        offset = start * CHUNK + rng.randrange(CHUNK // 2)
                        length = min(count * CHUNK - (offset - start * CHUNK), files[name] - offset)
                        payload = rng.randbytes(length)
                        os.pwrite(w["fd"], payload, offset)
                        w["pending"].append((offset, payload))
                        w["claimed"].update(range(offset // CHUNK, (offset + length - 1) // CHUNK + 1))
                    elif action < 0.6 and writers:
                        key = rng.choice(sorted(writers))
                        w = writers[key]
                        sync = rng.random() < 0.3
                        if sync: os.fsync(w["fd"])
                        else: os.close(w["fd"])
                        for offset, payload in w["pending"]: model[key[1]][offset:offset + len(payload)] = payload
                        w["pending"] = []
                        if sync: w["claimed"] = set()
                        else: del writers[key]
                    else:
                        verify(step, mount, name)
                for key, w in sorted(writers.items()):
                    os.close(w["fd"])
                    for offset, payload in w["pending"]: model[key[1]][offset:offset + len(payload)] = payload
                writers = {}
                for mount in range(2):
                    for name in files: verify(steps, mount, name)
                print(f"{steps} random steps agree with the model (seed {seed})")
                PY
                """)
        }
    }

    @Test("du of a sparse file counts only the blocks written, on every mount")
    func sparseFilesAllocateOnlyWhatIsWritten() async throws {
        try await withMounts(2) { _, mounts in
            try await Shell.check("st_blocks of sparse files", """
                set -e
                cd '\(mounts[0])'
                truncate -s 100M holes
                test "$(stat -c %b holes)" = 0
                dd if=/dev/urandom of=sparse bs=1M count=1 seek=50 conv=notrunc status=none
                truncate -s 100M sparse
                blocks=$(stat -c %b sparse); test "$blocks" -ge 2048 -a "$blocks" -le 2056 || { echo "sparse: $blocks blocks"; exit 1; }
                head -c 5000000 /dev/urandom > dense
                blocks=$(stat -c %b dense); test "$blocks" -ge 9765 -a "$blocks" -le 9800 || { echo "dense: $blocks blocks"; exit 1; }
                sleep 1.2
                test "$(stat -c %b '\(mounts[1])/sparse')" = "$(stat -c %b sparse)"
                du -k sparse holes dense
                """)
        }
    }
}
