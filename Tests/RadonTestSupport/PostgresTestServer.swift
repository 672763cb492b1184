import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// The engines the metadata store suites run against.
public enum TestEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public static let all = allCases

    public var description: String { rawValue }
}

/// One real PostgreSQL server for the whole test process, started on first use: `initdb` into
/// a temporary directory (as the `postgres` OS user when we are root, as PostgreSQL refuses
/// root), its own port on 127.0.0.1, trust authentication. Each test gets a database of its
/// own (`freshDatabase`), so tests stay independent. The server stops when the process exits
/// (atexit), and a watcher process stops it too if the tests die without exiting cleanly.
///
/// fsync is off (RADONFS_TEST_PG_FSYNC=on turns it on, for figures): the tests check
/// behaviour, not durability across power cuts.
public enum PostgresTestServer {

    public struct Running: Sendable {
        public let port: Int
        public let directory: String
    }

    private static let started = Mutex<Task<Running, any Error>?>(nil)
    private static let databaseCount = Atomic<Int>(0)

    /// A new, empty database's URL.
    public static func freshDatabase() async throws -> String {
        let server = try await running()
        let name = "test_\(getpid())_\(databaseCount.wrappingAdd(1, ordering: .relaxed).newValue)"
        try await withConnection(port: server.port) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quietLogger)
        }
        return "postgres://postgres@127.0.0.1:\(server.port)/\(name)"
    }

    public static func running() async throws -> Running {
        let task = started.withLock { task in
            if let task { return task }
            let made = Task { try await start() }
            task = made
            return made
        }
        return try await task.value
    }

    public static let quietLogger: Logger = {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `sql` (one statement, no arguments) in `database` on the test server.
    public static func execute(_ sql: String, inDatabaseOf url: String) async throws {
        let server = try await running()
        let database = String(url.split(separator: "/").last ?? "postgres")
        try await withConnection(port: server.port, database: database) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
        }
    }

    /// The first column of `sql`'s rows, as integers, in `database` on the test server.
    public static func integers(_ sql: String, inDatabaseOf url: String) async throws -> [Int64] {
        let server = try await running()
        let database = String(url.split(separator: "/").last ?? "postgres")
        var values: [Int64] = []
        try await withConnection(port: server.port, database: database) { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger).decode(Int64.self) {
                values.append(value)
            }
        }
        return values
    }

    public static func withConnection(port: Int, database: String = "postgres", _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: .init(host: "127.0.0.1", port: port, username: "postgres", password: nil, database: database, tls: .disable),
            id: 0, logger: quietLogger
        )
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// The shell command that stops the running server and removes its directory, for `atexit`.
    private static let stopCommand = Mutex<String?>(nil)

    private static func start() async throws -> Running {
        // The server binaries as the failover tests find them (RADONFS_PG_BIN, or the newest installed).
        guard let binaries = PostgresTools.binDirectory else {
            throw TestFailure("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); scripts/install-dependencies.sh --test installs it")
        }
        var template = Array("/tmp/radonfs-pg-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        let directory = String(cString: made)
        let asRoot = getuid() == 0
        if asRoot {
            guard let user = getpwnam("postgres") else { throw TestFailure("running as root, but there is no postgres user to run PostgreSQL as") }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let port = try TCPPort.free()
        let data = directory + "/data"
        let fsync = ProcessInfo.processInfo.environment["RADONFS_TEST_PG_FSYNC"] == "on" ? "on" : "off"
        try await run(asRoot, in: directory, [binaries + "/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=\(fsync) -c full_page_writes=\(fsync) -c max_connections=300"
        try await run(asRoot, in: directory, [binaries + "/pg_ctl", "-D", data, "-o", options, "-l", directory + "/log", "-w", "start"])
        let prefix = asRoot ? "runuser -u postgres -- " : ""
        let stop = "\(prefix)\(binaries)/pg_ctl -D \(data) -m immediate stop >/dev/null 2>&1; rm -rf \(directory)"
        stopCommand.withLock { $0 = stop }
        atexit {
            if let command = PostgresTestServer.stopCommand.withLock({ $0 }) { _ = system(command) }
        }
        // Should the test process die without atexit (a crash, SIGKILL), stop the server anyway.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop)"]
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        return Running(port: port, directory: directory)
    }

    /// Runs a command (as the postgres user when `asPostgres`) through a shell that records its
    /// output and exit status in `directory`, and polls for the status: Foundation's
    /// `waitUntilExit` was seen to miss the exit of `runuser` once its grandchild (the server)
    /// lived on.
    private static func run(_ asPostgres: Bool, in directory: String, _ arguments: [String]) async throws {
        let quoted = (asPostgres ? ["runuser", "-u", "postgres", "--"] + arguments : arguments)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let output = directory + "/command.out"
        let status = directory + "/command.status"
        try? FileManager.default.removeItem(atPath: status)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\(quoted) </dev/null >\(output) 2>&1; echo $? >\(status).tmp; mv \(status).tmp \(status)"]
        try shell.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: status, encoding: .utf8), let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                guard code == 0 else {
                    let log = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                    throw TestFailure("\(arguments.joined(separator: " ")) failed (\(code)): \(log)")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(arguments.joined(separator: " ")) did not finish in 120 s")
    }
}
