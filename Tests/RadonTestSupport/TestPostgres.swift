import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// Runs Debian's PostgreSQL tools for tests: as the `postgres` OS user when we are root (the
/// server refuses to run as root), as ourselves otherwise.
public enum PostgresTools {
    /// RADONFS_PG_BIN, else the newest /usr/lib/postgresql/*/bin with initdb; nil when absent.
    public static let binDirectory: String? = {
        if let configured = ProcessInfo.processInfo.environment["RADONFS_PG_BIN"] { return configured }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }()

    /// Whether the server binaries are installed (tests that need them are skipped otherwise).
    public static var available: Bool { binDirectory != nil }

    /// Runs `tool` with `arguments` and waits; its output, or a failure carrying it.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        guard let binDirectory else { throw TestFailure("no PostgreSQL binaries") }
        let command = ["\(binDirectory)/\(tool)"] + arguments
        let argv = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        // A file, not a pipe: pg_ctl's server outlives the tool and would hold a pipe open.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("pgtool-\(UUID().uuidString.prefix(8)).out").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        if getuid() == 0 { chownToPostgres(outputPath) }
        // posix_spawn and waitpid rather than Foundation's Process, whose waitUntilExit was seen
        // never to return once pg_ctl's child had exited.
        let status = try spawnAndWait(argv, outputPath: outputPath)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 || allowFailure else {
            throw TestFailure("\(tool) \(arguments.joined(separator: " ")) exited with status \(status):\n\(text)")
        }
        return text
    }

    /// One SQL statement through psql on 127.0.0.1:`port`; the rows unaligned, `|`-separated.
    public static func query(_ sql: String, port: Int, user: String = "radonfs", database: String = "radonfs") throws -> String {
        try run("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-Atc", sql])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A crash of the server in `dataDirectory` (no checkpoint, clients cut off); nothing if it
    /// is not running. SIGQUIT to the postmaster is what `pg_ctl stop -m immediate` sends; it is
    /// sent here directly because pg_ctl under runuser was seen to return 60 s and once 120 s
    /// after the server had shut down in milliseconds, longer than a mount's patience. Waits 10 s
    /// at most for the postmaster to remove its pid file; one still there then is SIGKILLed with
    /// its children, which is a crash too.
    public static func crash(dataDirectory: String) {
        guard let postmaster = postmasterPID(in: dataDirectory), kill(postmaster, 0) == 0 else { return }
        kill(postmaster, SIGQUIT)
        for _ in 0..<1000 where postmasterPID(in: dataDirectory) == postmaster { usleep(10_000) }
        guard postmasterPID(in: dataDirectory) == postmaster, kill(postmaster, 0) == 0 else { return }
        print("PostgreSQL in \(dataDirectory) did not stop within 10 s of SIGQUIT (an immediate shutdown); SIGKILL")
        _ = try? spawnAndWait(["/usr/bin/pkill", "-KILL", "-P", "\(postmaster)"], outputPath: "/dev/null")
        kill(postmaster, SIGKILL)
        for _ in 0..<500 where kill(postmaster, 0) == 0 { usleep(10_000) }
    }

    /// The postmaster's pid from `postmaster.pid`, nil when there is no such file.
    static func postmasterPID(in dataDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first else { return nil }
        return pid_t(first.trimmingCharacters(in: .whitespaces))
    }

    static func chownToPostgres(_ path: String) {
        _ = try? spawnAndWait(["/bin/chown", "-R", "postgres:postgres", path], outputPath: "/dev/null")
    }

    /// Runs `argv` with stdin from /dev/null and its output appended to `outputPath`; its wait status.
    static func spawnAndWait(_ argv: [String], outputPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        guard result == 0 else { throw TestFailure("cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }
}

/// A throwaway PostgreSQL server for one test: initdb in a fresh /tmp directory, started on a
/// free loopback port with trust authentication, database `radonfs` owned by user `radonfs`;
/// stopped (immediate) and removed afterwards whatever happens.
public struct TestPostgres: Sendable {
    public let directory: String
    public let port: Int

    /// The database as `radonfs meta --db`/`--lease-db` name it.
    public var url: String { "postgres://radonfs@127.0.0.1:\(port)/radonfs" }

    public static func with(_ body: (TestPostgres) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { PostgresTools.chownToPostgres(directory) }
        let server = TestPostgres(directory: directory, port: try LoopbackPort.free())
        defer {
            PostgresTools.crash(dataDirectory: "\(directory)/data")
            try? FileManager.default.removeItem(atPath: directory)
        }
        try PostgresTools.run("initdb", ["-D", "\(directory)/data", "-U", "radonfs", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try PostgresTools.run("pg_ctl", [
            "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-t", "60",
            "-o", "-p \(server.port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(directory) -c fsync=off", "start",
        ])
        try PostgresTools.run("createdb", ["-h", "127.0.0.1", "-p", "\(server.port)", "-U", "radonfs", "radonfs"])
        try await body(server)
    }

    /// One statement on this server (see `PostgresTools.query`).
    public func query(_ sql: String) throws -> String {
        try PostgresTools.query(sql, port: port)
    }
}
