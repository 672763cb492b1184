import Foundation
import RadonMount
import RadonTestSupport
import Testing

/// Locks between separate mount processes of one cluster: held by the metadata service for
/// each mount's session, so they hold across mounts, and a mount that dies loses them after
/// its lease (4 s here).
extension MultiMountTests {
    @Test("flock, fcntl and OFD locks across mounts; sqlite writers on two mounts; a killed holder's locks go after its lease")
    func locksAcrossMountProcesses() async throws {
        try await withMounts(2) { _, mounts in
            try await MountChecks.locksAcrossMounts(first: mounts[0], second: mounts[1])
            let writers = try await Shell.check("sqlite3 rollback-journal writers on two mounts", """
                python3 - '\(mounts[0])' '\(mounts[1])' 50 <<'PY'
                \(Self.sqliteWritersScript)
                PY
                """)
            print(writers, terminator: "")
            let killed = try await Shell.check("a SIGKILLed mount's locks", """
                python3 - '\(mounts[0])' '\(mounts[1])' 4 <<'PY'
                \(Self.killedHolderScript)
                PY
                """)
            print(killed, terminator: "")
        }
    }

    /// Two processes, one per mount, each insert n rows in their own transactions into one
    /// database in rollback-journal mode (sqlite's locks are fcntl byte-range locks); after,
    /// the database is intact and holds exactly both writers' rows.
    static let sqliteWritersScript = #"""
    import os, sqlite3, sys, time
    a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    paths = {"a": os.path.join(a, "shared.db"), "b": os.path.join(b, "shared.db")}
    setup = sqlite3.connect(paths["a"])
    assert setup.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    setup.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT, k INTEGER)")
    setup.commit()
    setup.close()
    deadline = time.time() + 5
    while not os.path.exists(paths["b"]):
        assert time.time() < deadline, "the second mount never saw the database"
        time.sleep(0.1)

    def writer(who):
        db = sqlite3.connect(paths[who], timeout=120, isolation_level=None)
        assert db.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
        for k in range(n):
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t(who, k) VALUES (?, ?)", (who, k))
            db.execute("COMMIT")
        db.close()

    started = time.time()
    children = []
    for who in paths:
        pid = os.fork()
        if pid == 0:
            try:
                writer(who)
                os._exit(0)
            except BaseException as error:
                print(f"writer {who} failed: {error!r}", flush=True)
                os._exit(1)
        children.append(pid)
    failed = [pid for pid in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
    assert not failed, "a writer failed"
    for who, path in paths.items():
        db = sqlite3.connect(path)
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        assert check == "ok", f"integrity_check through mount {who}: {check}"
        rows = dict(db.execute("SELECT who, count(*) FROM t GROUP BY who").fetchall())
        assert rows == {"a": n, "b": n}, f"rows through mount {who}: {rows}, expected {n} each"
        db.close()
    print(f"{2 * n} transactions from two mounts in {time.time() - started:.1f} s")
    """#

    /// A process on the second mount holds a write lock and the mount process is SIGKILLed: the
    /// lock is still held at once (the session lives until its lease runs out), and a waiter on
    /// the first mount gets it within the lease and a margin. The second mount is gone after.
    static let killedHolderScript = #"""
    import fcntl, os, signal, subprocess, sys, time
    a, b, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    path_a, path_b = os.path.join(a, "dead-holder.dat"), os.path.join(b, "dead-holder.dat")
    open(path_a, "w").close()
    deadline = time.time() + 5
    while not os.path.exists(path_b):
        assert time.time() < deadline, "the second mount never saw the file"
        time.sleep(0.1)
    holder = subprocess.Popen(["python3", "-c", "import fcntl, os, sys, time\n"
                               "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                               "fcntl.lockf(fd, fcntl.LOCK_EX)\n"
                               "print('locked', flush=True)\n"
                               "time.sleep(600)\n", path_b], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    mount_pids = subprocess.run(["pgrep", "-f", f"mount -f .* {b}$"], capture_output=True, text=True).stdout.split()
    assert mount_pids, "no mount process for " + b
    for pid in mount_pids:
        os.kill(int(pid), signal.SIGKILL)
    killed = time.time()
    holder.kill()
    holder.wait()
    subprocess.run(["umount", "-l", b], check=True)
    fd = os.open(path_a, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        raise AssertionError("granted at once: the dead mount's session had not lapsed yet")
    except OSError:
        pass
    fcntl.lockf(fd, fcntl.LOCK_EX)
    waited = time.time() - killed
    assert waited <= lease + 6, f"granted {waited:.1f} s after the kill (lease {lease} s)"
    print(f"the killed mount's lock was granted {waited:.1f} s after the kill (lease {lease} s)")
    """#
}
