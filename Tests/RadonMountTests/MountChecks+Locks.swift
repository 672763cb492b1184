import Foundation
import Testing

/// Locks between two mounts of one file system: flock(1), fcntl/lockf byte ranges with
/// F_GETLK and blocking waits, release at close, interrupted waits, OFD locks.
extension MountChecks {
    static func locksAcrossMounts(first: String, second: String) async throws {
        try await Shell.check("flock(1) across two mounts", """
            signal=$(mktemp -d)
            : > '\(first)/flock.lock'
            for i in $(seq 50); do [ -e '\(second)/flock.lock' ] && break; sleep 0.1; done
            flock -x '\(first)/flock.lock' -c "touch $signal/held; sleep 3" &
            holder=$!
            for i in $(seq 100); do [ -e $signal/held ] && break; sleep 0.05; done
            test -e $signal/held
            if flock -n '\(second)/flock.lock' true; then echo "flock -n succeeded on the second mount while the first held it"; exit 1; fi
            if flock -n -s '\(second)/flock.lock' true; then echo "a shared flock was granted beside an exclusive one"; exit 1; fi
            # flock and POSIX locks do not conflict, as on Linux.
            python3 -c "import fcntl; fcntl.lockf(open('\(second)/flock.lock', 'r+'), fcntl.LOCK_EX | fcntl.LOCK_NB)"
            wait $holder
            # The holder's release (asynchronous in the kernel) frees it within moments.
            for i in $(seq 50); do flock -n '\(second)/flock.lock' true && break; sleep 0.1; done
            flock -n '\(second)/flock.lock' true
            # Shared locks of two mounts coexist.
            flock -s '\(first)/flock.lock' -c "flock -n -s '\(second)/flock.lock' true"
            rm -rf $signal
            """)
        try await Shell.check("fcntl locks across two mounts", "python3 - '\(first)' '\(second)' <<'PY'\n\(lockScript)\nPY")
    }

    /// The fcntl checks, as a python script taking the two mount points.
    static let lockScript = #"""
    import errno, fcntl, os, select, signal, struct, sys, time
    A, B = (os.path.join(d, "locks.dat") for d in sys.argv[1:3])
    with open(A, "wb") as f:
        f.write(b"x" * 8192)
    deadline = time.time() + 5
    while not os.path.exists(B):
        assert time.time() < deadline, "the second mount never saw the file"
        time.sleep(0.1)
    F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
    BUSY = (errno.EAGAIN, errno.EACCES)

    def pack(kind, start, length):
        return struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)

    def unpack(raw):
        kind, _, start, length, pid = struct.unpack("hhqqi4x", raw)
        return kind, start, length, pid

    def fork(body):
        """Runs body() in a child process (another lock owner); its result is the exit code."""
        pid = os.fork()
        if pid == 0:
            code = 99
            try:
                code = body()
            except BaseException as error:
                print("child failed:", repr(error), flush=True)
            os._exit(code)
        return pid

    def join(pid, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError(f"child {pid} still waiting after {timeout} s")

    # 1. A write lock on bytes 0-99 through the first mount.
    fa = os.open(A, os.O_RDWR)
    fcntl.lockf(fa, fcntl.LOCK_EX, 100, 0)
    holder = os.getpid()

    def second_mount_while_held():
        fb = os.open(B, os.O_RDWR)
        try:
            fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)
            return 10
        except OSError as error:
            if error.errno not in BUSY:
                return 11
        seen = unpack(fcntl.fcntl(fb, fcntl.F_GETLK, pack(fcntl.F_WRLCK, 0, 0)))
        if seen != (fcntl.F_WRLCK, 0, 100, holder):
            print("F_GETLK saw", seen, flush=True)
            return 12
        fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 100)  # bytes 100-199: free
        fcntl.lockf(fb, fcntl.LOCK_SH | fcntl.LOCK_NB, 0, 4096)   # 4096 to EOF: free
        started = time.time()
        fcntl.lockf(fb, fcntl.LOCK_EX, 100, 0)  # F_SETLKW: waits for the holder
        print(f"waited {time.time() - started:.2f} s", flush=True)
        return 0 if time.time() - started > 0.5 else 13

    child = fork(second_mount_while_held)
    time.sleep(2.5)
    fcntl.lockf(fa, fcntl.LOCK_UN, 100, 0)
    unlocked = time.time()
    assert join(child, 20) == 0, "the second mount's checks while the first held the lock"
    assert time.time() - unlocked < 3, f"the waiter woke {time.time() - unlocked:.1f} s after the unlock"
    assert unpack(fcntl.fcntl(fa, fcntl.F_GETLK, pack(fcntl.F_WRLCK, 0, 0)))[0] == fcntl.F_UNLCK, "the child's locks outlived it"

    # 2. close(2) of any descriptor of the file releases the process's locks.
    fcntl.lockf(fa, fcntl.LOCK_EX)
    os.close(os.open(A, os.O_RDONLY))

    def free_now():
        fb = os.open(B, os.O_RDWR)
        fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return 0

    assert join(fork(free_now), 20) == 0, "a close by the holder did not release its lock"

    # 3. A signal interrupts a waiting F_SETLKW: EINTR, and the wait takes nothing.
    fcntl.lockf(fa, fcntl.LOCK_EX, 1, 0)
    reported, report = os.pipe()
    resume, resumed = os.pipe()

    class Alarm(Exception):
        pass

    def interrupted():
        fb = os.open(B, os.O_RDWR)

        def ring(*_):
            raise Alarm()

        signal.signal(signal.SIGALRM, ring)
        # The test runner's threads block SIGALRM, and children inherit the mask.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGALRM])
        signal.alarm(1)
        started = time.time()
        try:
            fcntl.lockf(fb, fcntl.LOCK_EX, 1, 0)
            return 20
        except Alarm:
            pass
        if time.time() - started > 4:
            return 21
        os.write(report, b"!")
        os.read(resume, 1)  # keeps fb open (its locks would go with it) until checked
        return 0

    child = fork(interrupted)
    if not select.select([reported], [], [], 10)[0]:
        fcntl.lockf(fa, fcntl.LOCK_UN, 1, 0)
        raise AssertionError(f"a signal did not end the waiting F_SETLKW within 10 s (child: {join(child, 10)})")
    assert os.read(reported, 1) == b"!", "the interrupted child did not report"
    fcntl.lockf(fa, fcntl.LOCK_UN, 1, 0)
    time.sleep(0.5)
    seen = unpack(fcntl.fcntl(fa, fcntl.F_GETLK, pack(fcntl.F_WRLCK, 0, 0)))
    os.write(resumed, b"!")
    assert join(child, 20) == 0, "the interrupted wait"
    assert seen[0] == fcntl.F_UNLCK, f"the cancelled wait took the lock after all: {seen}"
    os.close(fa)

    # 4. OFD locks: owned by the open file description, exclusive across descriptions and
    # mounts (even of one process), released by the description's last close.
    o1 = os.open(A, os.O_RDWR)
    fcntl.fcntl(o1, F_OFD_SETLK, pack(fcntl.F_WRLCK, 0, 0))
    o2 = os.open(B, os.O_RDWR)
    try:
        fcntl.fcntl(o2, F_OFD_SETLK, pack(fcntl.F_RDLCK, 0, 0))
        raise AssertionError("two descriptions both hold OFD locks over the same bytes")
    except OSError as error:
        assert error.errno in BUSY, error
    seen = unpack(fcntl.fcntl(o2, F_OFD_GETLK, pack(fcntl.F_RDLCK, 10, 10)))
    assert seen[:3] == (fcntl.F_WRLCK, 0, 0), f"F_OFD_GETLK saw {seen}"
    os.close(o1)
    started = time.time()
    fcntl.fcntl(o2, F_OFD_SETLKW, pack(fcntl.F_WRLCK, 0, 0))
    assert time.time() - started < 3, "the OFD lock outlived its description"
    os.close(o2)
    print("fcntl locks across mounts: ok")
    """#
}
