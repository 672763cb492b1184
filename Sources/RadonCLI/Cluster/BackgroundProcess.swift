import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping the daemons of a local cluster as background processes.
///
/// Each daemon gets its own session (so closing the terminal that ran `radonfs up` does not
/// send it SIGHUP), stdin from /dev/null and its output appended to a log file.
enum BackgroundProcess {
    /// glibc's `POSIX_SPAWN_SETSID` (0x80); Swift does not import it because glibc defines it
    /// only under `__USE_GNU`.
    private static let spawnSetSessionFlag: Int16 = 0x80

    /// Starts `executable` with `arguments`, appending its output to `logPath`; returns its pid.
    static func spawn(_ executable: String, _ arguments: [String], logPath: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, spawnSetSessionFlag)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, PrivateState.fileMode)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours leaks into a daemon: a pipe our caller reads would never see EOF.
        // (glibc's addclosefrom_np is not visible to Swift, so close what is open, one by one.)
        let openDescriptors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for descriptor in openDescriptors where descriptor > 2 && fcntl(descriptor, F_GETFD) != -1 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CLIError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Whether `pid` is a running process (not gone, not a zombie waiting to be reaped).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// Reaps `pid` if it is our own child that has exited, so it does not linger as a zombie.
    static func reapIfExited(_ pid: pid_t) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// SIGTERM, then up to `grace` for the processes to exit, then SIGKILL for the ones left.
    /// Returns the pids that had to be killed.
    @discardableResult
    static func stop(_ pids: [pid_t], grace: Duration = .seconds(10)) async -> [pid_t] {
        let running = pids.filter(isRunning)
        for pid in running { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            running.forEach(reapIfExited)
            if !running.contains(where: isRunning) { return [] }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let stragglers = running.filter(isRunning)
        for pid in stragglers { kill(pid, SIGKILL) }
        stragglers.forEach(reapIfExited)
        return stragglers
    }

    /// The path of the running `radonfs` binary, so a launcher starts the very same build.
    static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Waits until `path` exists with content, while `pid` still runs; returns the content.
    static func waitForFile(_ path: String, writtenBy pid: pid_t, timeout: Duration, logPath: String) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            reapIfExited(pid)
            guard isRunning(pid) else {
                throw CLIError("process \(pid) exited before it was ready; see \(logPath):\n\(lastLines(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIError("process \(pid) did not write \(path) within \(timeout); see \(logPath)")
    }

    /// The last few lines of a log, to show with an error.
    static func lastLines(of path: String, count: Int = 10) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }
}
