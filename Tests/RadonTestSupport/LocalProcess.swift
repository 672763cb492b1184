import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starting, watching and killing the daemons a test launches. The daemons outlive the
/// `Process` objects (and `radonfs up`) that started them, so they are handled by pid.
public enum LocalProcess {
    /// Alive and not a zombie (the daemons' parent, `radonfs up`, has exited; whoever adopted
    /// them may reap late, so `kill(pid, 0)` alone would call a dead daemon alive).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    /// Waits (polling every 10 ms, at most `polls` times) until `pid` is gone: after a SIGKILL
    /// the test must not go on while the daemon may still answer.
    public static func waitUntilGone(_ pid: Int32, polls: Int) {
        for _ in 0..<polls where isRunning(pid) { usleep(10_000) }
    }

    /// SIGKILLs `pid` and waits until it is gone (see `waitUntilGone`).
    public static func killAndWait(_ pid: Int32, polls: Int) {
        kill(pid, SIGKILL)
        waitUntilGone(pid, polls: polls)
    }

    /// Starts `command` (the executable's path first) in the background with `environment`
    /// added to ours and its output in the file `log` (not a pipe, which nobody would drain);
    /// returns its pid. The caller must kill it.
    public static func spawn(_ command: [String], log: String, environment: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()
        return process.processIdentifier
    }

    /// The port a daemon started with `--port-file path` wrote (`host:port` or a bare port):
    /// daemons listen on port 0, so this is how a test learns where they are. Fails when
    /// `pid` exits first, or after 120 s.
    public static func waitForPort(_ path: String, pid: Int32) async throws -> Int {
        for _ in 0..<1200 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").last ?? "") {
                return port
            }
            guard isRunning(pid) else { throw TestFailure("process \(pid) exited before writing \(path)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("no port in \(path) after 120 s")
    }

    /// Runs `executable` with `arguments` to its end; its exit status and its output (stdout
    /// and stderr together, through a pipe: for tools that start nothing that outlives them).
    public static func output(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
