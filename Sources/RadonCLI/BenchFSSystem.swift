import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM during `radonfs bench fs`, so the benchmark stops between steps and
/// still tears down what it started (a GlusterFS volume or a mount left behind is a nuisance).
let benchFSInterruption = Atomic<Bool>(false)

/// The machine-level chores of the file-system benchmark: running external tools, dropping the
/// kernel's caches and knowing what is mounted. The benchmark drives fio, gluster and radonfs
/// as separate processes, so their costs are measured as a user would see them.
enum BenchFSSystem {
    /// What a finished external command left behind.
    struct CommandResult {
        var status: Int32
        /// Its standard output and error, interleaved.
        var output: String
    }

    /// Runs `command` (looked up in PATH) to completion and returns its status and output.
    ///
    /// Not Foundation's `Process`: on Linux it learns of an exit when a descriptor the child
    /// inherited closes, and `mount -t glusterfs` or `radonfs up` leave daemons that inherit
    /// it, so it would wait for ever. A plain spawn and `waitpid` on the pid do not care.
    @discardableResult
    static func run(_ command: String, _ arguments: [String], mustSucceed: Bool = true) async throws -> CommandResult {
        let logPath = "\(NSTemporaryDirectory())/radonfs-bench-\(getpid())-\(UUID().uuidString).out"
        defer { unlink(logPath) }
        let pid = try start(command, arguments, logPath: logPath)
        let status = await waitForExit(pid)
        let result = CommandResult(status: status, output: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
        if mustSucceed && result.status != 0 {
            let detail = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw CLIError("`\(([command] + arguments).joined(separator: " "))` failed (status \(result.status)): \(detail)")
        }
        return result
    }

    /// Starts `command` in the background (its own session, output appended to `logPath`);
    /// the caller owns the returned pid and must stop or wait for it.
    static func start(_ command: String, _ arguments: [String], logPath: String) throws -> pid_t {
        guard let executable = command.hasPrefix("/") ? command : locate(command) else {
            throw CLIError("\(command) is not installed (not found in PATH)")
        }
        // A child inherits the signal mask of the thread that spawns it, and the threads that run
        // Swift's async code block SIGINT and SIGTERM: perf or glusterd started from them could
        // never be stopped gracefully (perf then leaves an unreadable file). Spawn with none blocked.
        var nothing = sigset_t()
        var previous = sigset_t()
        sigemptyset(&nothing)
        pthread_sigmask(SIG_SETMASK, &nothing, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try BackgroundProcess.spawn(executable, arguments, logPath: logPath)
    }

    /// Waits for our child `pid` to exit and reaps it; returns its exit status, or 128 plus
    /// the signal that ended it.
    static func waitForExit(_ pid: pid_t) async -> Int32 {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { return -1 }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let signalNumber = status & 0x7f
        return signalNumber == 0 ? (status >> 8) & 0xff : 128 + signalNumber
    }

    /// Whether `command` can be found in PATH.
    static func isInstalled(_ command: String) -> Bool {
        locate(command) != nil
    }

    /// The full path of `command` in PATH (plus the sbin directories, where gluster lives).
    static func locate(_ command: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") + ":/usr/sbin:/sbin"
        return path.split(separator: ":").map { "\($0)/\(command)" }.first { access($0, X_OK) == 0 }
    }

    /// Flushes `directory` (the jobs fsync their own files), then drops the page cache, dentries
    /// and inodes, so the next access has to go to the file system rather than memory. Not
    /// sync(): a stuck FUSE mount elsewhere on the machine must not hang the benchmark.
    static func dropCaches(syncing directory: String) throws {
        try fsyncDirectory(directory)
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else {
            throw CLIError("cannot open /proc/sys/vm/drop_caches (the benchmark must run as root)")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("3\n".utf8))
    }

    /// fsync of a directory: makes the entries created or removed in it durable, which is
    /// what a careful program does after creating or deleting files.
    static func fsyncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw CLIError("cannot open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // A file system without fsyncdir (ENOSYS, EINVAL) has nothing to flush that way.
        guard fsync(descriptor) == 0 || errno == ENOSYS || errno == EINVAL else {
            throw CLIError("cannot flush \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes.
    static func waitUntil(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    /// Throws if the user asked the benchmark to stop.
    static func checkInterruption() throws {
        if benchFSInterruption.load(ordering: .relaxed) {
            throw CLIError("interrupted")
        }
    }

    /// Turns SIGINT and SIGTERM into `benchFSInterruption`. The tools we start run in their own
    /// sessions, so Ctrl-C reaches only the benchmark, which ends the step under way, then
    /// tears down what it started.
    static func catchInterruptions() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in benchFSInterruption.store(true, ordering: .relaxed) }
        }
    }
}
