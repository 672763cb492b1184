import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL of a local cluster under DIR/postgres: a primary and a streaming-replication
/// standby made with Debian's server binaries (initdb, pg_ctl, pg_basebackup), each on a
/// loopback port of its own.
///
/// PostgreSQL refuses to run as root, so as root every tool runs as the `postgres` OS user
/// (`runuser`) over a directory chowned to it; otherwise as the current user. Authentication is
/// `trust` on 127.0.0.1 only: the databases serve this machine's metadata servers alone.
struct LocalPostgres {
    /// DIR/postgres.
    var directory: String
    var binDirectory: String
    var user = "radonfs"
    var database = "radonfs"

    init(clusterDirectory: String) throws {
        directory = "\(clusterDirectory)/postgres"
        binDirectory = try Self.findBinDirectory()
    }

    /// The servers cluster.json records, with the binaries they were made with.
    init(state: LocalClusterState.Postgres, clusterDirectory: String) {
        directory = "\(clusterDirectory)/postgres"
        binDirectory = state.binDirectory
        user = state.user
        database = state.database
    }

    /// RADONFS_PG_BIN, else the newest /usr/lib/postgresql/*/bin that has initdb.
    static func findBinDirectory() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["RADONFS_PG_BIN"] { return configured }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw CLIError("no PostgreSQL server binaries in \(root)/*/bin (apt-get install postgresql), or set RADONFS_PG_BIN")
    }

    /// Starts the primary and its standby, creating them on first use; `previous` is what
    /// cluster.json recorded. A former primary left behind by a promotion is cloned anew from
    /// the current primary before it runs, so it can never come back as a second primary.
    func ensureRunning(previous: LocalClusterState.Postgres?) throws -> LocalClusterState.Postgres {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try handOver(directory)
        var state: LocalClusterState.Postgres
        if let previous {
            state = previous
        } else {
            state = LocalClusterState.Postgres(
                user: user, database: database, binDirectory: binDirectory,
                primary: instance(named: "primary", port: try LoopbackPort.free()),
                standby: instance(named: "standby", port: try LoopbackPort.free()))
        }
        state.binDirectory = binDirectory
        let fresh = !FileManager.default.fileExists(atPath: "\(state.primary.dataDirectory)/PG_VERSION")
        if fresh {
            try run("initdb", ["-D", state.primary.dataDirectory, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
                    log: state.primary.logPath)
            try configure(state.primary, extra: ["wal_level = replica", "max_wal_senders = 10", "wal_keep_size = '512MB'"])
        }
        try start(state.primary)
        if fresh {
            try run("createdb", ["-h", "127.0.0.1", "-p", "\(state.primary.port)", "-U", user, database], log: state.primary.logPath)
        }
        if var standby = state.standby {
            if standby.needsRebuild == true || !FileManager.default.fileExists(atPath: "\(standby.dataDirectory)/PG_VERSION") {
                try clone(standby, from: state.primary)
                standby.needsRebuild = nil
                state.standby = standby
            }
            try start(standby)
            try requireSynchronousStandby(true, on: state.primary)
        }
        return state
    }

    /// Whether a commit on `primary` waits until the standby has it on disk
    /// (`synchronous_standby_names`). On while a standby runs, so a promotion loses nothing
    /// acknowledged; off on a primary without one, whose commits would otherwise wait forever.
    func requireSynchronousStandby(_ required: Bool, on primary: LocalClusterState.Postgres.Instance) throws {
        let value = required ? "*" : ""
        try run("psql", ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                         "-c", "ALTER SYSTEM SET synchronous_standby_names = '\(value)'", "-c", "SELECT pg_reload_conf()"],
                log: primary.logPath)
    }

    func instance(named name: String, port: Int) -> LocalClusterState.Postgres.Instance {
        .init(dataDirectory: "\(directory)/\(name)", port: port, logPath: "\(directory)/\(name).log")
    }

    /// Our settings, appended after initdb's (the last setting of a name wins).
    func configure(_ instance: LocalClusterState.Postgres.Instance, extra: [String] = []) throws {
        let lines = ["", "# radonfs up", "port = \(instance.port)", "listen_addresses = '127.0.0.1'",
                     "unix_socket_directories = '\(directory)'"] + extra
        let path = "\(instance.dataDirectory)/postgresql.conf"
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot write \(path)") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// A new streaming standby of `primary`: a base backup with `-R` (standby.signal and
    /// primary_conninfo), on the standby's own port.
    func clone(_ standby: LocalClusterState.Postgres.Instance, from primary: LocalClusterState.Postgres.Instance) throws {
        if isRunning(standby) { try stop(standby, mode: "immediate") }
        try? FileManager.default.removeItem(atPath: standby.dataDirectory)
        try run("pg_basebackup", ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", user, "-D", standby.dataDirectory,
                                  "-R", "-X", "stream", "-c", "fast"], log: standby.logPath)
        try configure(standby)
    }

    /// Starts `instance` unless it runs; returns once it accepts connections.
    func start(_ instance: LocalClusterState.Postgres.Instance) throws {
        if isRunning(instance) { return }
        waitForDeadPostmaster(port: instance.port)
        try run("pg_ctl", ["-D", instance.dataDirectory, "-l", instance.logPath, "-w", "-t", "60", "start"], log: instance.logPath)
    }

    /// Waits (up to 10 s) until the postmaster named by the socket lock file of `port` is gone
    /// for good. A postmaster killed a moment ago (a crash, `meta promote` right after) lingers
    /// as a zombie until it is reaped, and PostgreSQL refuses to start while the pid in that
    /// lock file exists at all ("lock file ... already exists").
    func waitForDeadPostmaster(port: Int) {
        let lockFile = "\(directory)/.s.PGSQL.\(port).lock"
        guard let text = try? String(contentsOfFile: lockFile, encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)),
              !BackgroundProcess.isRunning(pid) else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while kill(pid, 0) == 0, ContinuousClock.now < deadline { usleep(100_000) }
    }

    /// `pg_ctl stop`: `fast` (clients disconnected, a clean shutdown) or `immediate` (as a crash).
    func stop(_ instance: LocalClusterState.Postgres.Instance, mode: String = "fast") throws {
        guard isRunning(instance) else { return }
        try run("pg_ctl", ["-D", instance.dataDirectory, "-m", mode, "-w", "-t", "60", "stop"], log: instance.logPath)
    }

    /// `pg_ctl promote`: the standby stops replaying and becomes a primary (read-write).
    func promote(_ instance: LocalClusterState.Postgres.Instance) throws {
        try run("pg_ctl", ["-D", instance.dataDirectory, "-w", "-t", "60", "promote"], log: instance.logPath)
    }

    /// The postmaster's pid, from the first line of postmaster.pid, when it runs.
    func pid(of instance: LocalClusterState.Postgres.Instance) -> pid_t? {
        guard let text = try? String(contentsOfFile: "\(instance.dataDirectory)/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)),
              BackgroundProcess.isRunning(pid) else { return nil }
        return pid
    }

    func isRunning(_ instance: LocalClusterState.Postgres.Instance) -> Bool { pid(of: instance) != nil }

    /// Runs one PostgreSQL tool to completion (as `postgres` when we are root), its output
    /// appended to `log`; throws with the log's tail when it fails.
    func run(_ tool: String, _ arguments: [String], log: String) throws {
        let command = ["\(binDirectory)/\(tool)"] + arguments
        let asRoot = getuid() == 0
        if asRoot, !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            try handOver(log)
        }
        let pid = asRoot
            ? try BackgroundProcess.spawn("/usr/sbin/runuser", ["-u", "postgres", "--"] + command, logPath: log)
            : try BackgroundProcess.spawn(command[0], Array(command.dropFirst()), logPath: log)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            throw CLIError("\(tool) \(arguments.joined(separator: " ")) failed; see \(log):\n\(BackgroundProcess.lastLines(of: log))")
        }
    }

    /// As root, gives `path` (recursively) to the `postgres` user, which runs the server.
    func handOver(_ path: String) throws {
        guard getuid() == 0 else { return }
        let pid = try BackgroundProcess.spawn("/bin/chown", ["-R", "postgres:postgres", path], logPath: "/dev/null")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw CLIError("cannot chown \(path) to the postgres user") }
        // The postgres user must also pass through every directory above it (a cluster under a
        // mkdtemp directory, 0700, made initdb fail with "Permission denied"): add the search
        // bit, never read, where it is missing, and say so.
        var ancestor = (path as NSString).deletingLastPathComponent
        while ancestor.count > 1 {
            var info = stat()
            if stat(ancestor, &info) == 0, info.st_mode & S_IXOTH == 0 {
                guard chmod(ancestor, (info.st_mode & 0o7777) | S_IXOTH) == 0 else {
                    throw CLIError("PostgreSQL runs as the postgres user, which cannot pass through \(ancestor); make it searchable (chmod o+x)")
                }
                print("note: made \(ancestor) searchable by others (o+x) so PostgreSQL, running as postgres, reaches \(path)")
            }
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
    }
}
