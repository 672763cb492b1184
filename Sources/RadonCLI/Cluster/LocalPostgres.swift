import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL of a local cluster under DIR/postgres: a primary and a streaming-replication
/// standby made with Debian's server binaries (initdb, pg_ctl, pg_basebackup), each on a
/// loopback port of its own (`radonfs up`), or each on an emulated host's address in that host's
/// network namespace (`radonfs testbed up --metas 2`, given as a `Placement`).
///
/// PostgreSQL refuses to run as root, so as root every tool runs as the `postgres` OS user
/// (`runuser`) over a directory chowned to it; otherwise as the current user. Authentication is
/// `trust` on 127.0.0.1 (and on the placement's `trustedNetwork`) only: the databases serve this
/// machine's metadata servers alone.
struct LocalPostgres {
    /// Where a new primary and standby listen, when not on loopback: each server runs in its
    /// host's network namespace (entered with `nsenter --net`, which keeps the mount namespace,
    /// so the data under DIR stays visible), listens on that host's address, and trusts every
    /// address of `trustedNetwork` (the other host replicates from it, the metadata servers
    /// connect from any host). Distinct ports: both servers' unix sockets share DIR/postgres.
    struct Placement {
        struct Site {
            var address: String
            var port: Int
            /// The network namespace to enter, e.g. /run/netns/radonbed-meta0.
            var networkNamespace: String
        }

        var primary: Site
        var standby: Site
        /// CIDR, e.g. 10.214.0.0/16.
        var trustedNetwork: String
    }

    /// DIR/postgres.
    var directory: String
    var binDirectory: String
    var user = "radonfs"
    var database = "radonfs"
    /// nil: both servers on 127.0.0.1, on free ports (`radonfs up`).
    var placement: Placement?

    init(clusterDirectory: String, placement: Placement? = nil) throws {
        directory = "\(clusterDirectory)/postgres"
        binDirectory = try Self.findBinDirectory()
        self.placement = placement
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
                primary: try placement.map { instance(named: "primary", at: $0.primary) } ?? instance(named: "primary", port: LoopbackPort.free()),
                standby: try placement.map { instance(named: "standby", at: $0.standby) } ?? instance(named: "standby", port: LoopbackPort.free()))
        }
        state.binDirectory = binDirectory
        let fresh = !FileManager.default.fileExists(atPath: "\(state.primary.dataDirectory)/PG_VERSION")
        if fresh {
            try run("initdb", ["-D", state.primary.dataDirectory, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
                    log: state.primary.logPath, in: state.primary)
            try configure(state.primary, extra: ["wal_level = replica", "max_wal_senders = 10", "wal_keep_size = '512MB'"])
            if let network = placement?.trustedNetwork {
                // The standby's base backup copies these, so both servers trust the network.
                try append(["host all all \(network) trust", "host replication all \(network) trust"],
                           to: "\(state.primary.dataDirectory)/pg_hba.conf")
            }
        }
        try start(state.primary)
        if fresh {
            try run("createdb", ["-h", state.primary.address, "-p", "\(state.primary.port)", "-U", user, database],
                    log: state.primary.logPath, in: state.primary)
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
        try run("psql", ["-h", primary.address, "-p", "\(primary.port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                         "-c", "ALTER SYSTEM SET synchronous_standby_names = '\(value)'", "-c", "SELECT pg_reload_conf()"],
                log: primary.logPath, in: primary)
    }

    func instance(named name: String, port: Int) -> LocalClusterState.Postgres.Instance {
        .init(dataDirectory: "\(directory)/\(name)", port: port, logPath: "\(directory)/\(name).log")
    }

    func instance(named name: String, at site: Placement.Site) -> LocalClusterState.Postgres.Instance {
        var instance = instance(named: name, port: site.port)
        instance.host = site.address
        instance.networkNamespace = site.networkNamespace
        return instance
    }

    /// Our settings, appended after initdb's (the last setting of a name wins).
    func configure(_ instance: LocalClusterState.Postgres.Instance, extra: [String] = []) throws {
        let lines = ["", "# radonfs up", "port = \(instance.port)", "listen_addresses = '\(instance.address)'",
                     "unix_socket_directories = '\(directory)'"] + extra
        try append(lines, to: "\(instance.dataDirectory)/postgresql.conf")
    }

    /// Appends `lines` to a configuration file of a data directory.
    func append(_ lines: [String], to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot write \(path)") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data((([""] + lines).joined(separator: "\n") + "\n").utf8))
    }

    /// A new streaming standby of `primary`: a base backup with `-R` (standby.signal and
    /// primary_conninfo), on the standby's own port; taken from the standby's namespace, so on a
    /// test bed it (and the replication after it) crosses the bed's link.
    func clone(_ standby: LocalClusterState.Postgres.Instance, from primary: LocalClusterState.Postgres.Instance) throws {
        if isRunning(standby) { try stop(standby, mode: "immediate") }
        try? FileManager.default.removeItem(atPath: standby.dataDirectory)
        try run("pg_basebackup", ["-h", primary.address, "-p", "\(primary.port)", "-U", user, "-D", standby.dataDirectory,
                                  "-R", "-X", "stream", "-c", "fast"], log: standby.logPath, in: standby)
        try configure(standby)
    }

    /// Starts `instance` unless it runs; returns once it accepts connections.
    func start(_ instance: LocalClusterState.Postgres.Instance) throws {
        if isRunning(instance) { return }
        waitForDeadPostmaster(port: instance.port)
        try run("pg_ctl", ["-D", instance.dataDirectory, "-l", instance.logPath, "-w", "-t", "60", "start"], log: instance.logPath, in: instance)
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
        try run("pg_ctl", ["-D", instance.dataDirectory, "-m", mode, "-w", "-t", "60", "stop"], log: instance.logPath, in: instance)
    }

    /// `pg_ctl promote`: the standby stops replaying and becomes a primary (read-write).
    func promote(_ instance: LocalClusterState.Postgres.Instance) throws {
        try run("pg_ctl", ["-D", instance.dataDirectory, "-w", "-t", "60", "promote"], log: instance.logPath, in: instance)
    }

    /// The postmaster's pid, from the first line of postmaster.pid, when it runs.
    func pid(of instance: LocalClusterState.Postgres.Instance) -> pid_t? {
        guard let text = try? String(contentsOfFile: "\(instance.dataDirectory)/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)),
              BackgroundProcess.isRunning(pid) else { return nil }
        return pid
    }

    func isRunning(_ instance: LocalClusterState.Postgres.Instance) -> Bool { pid(of: instance) != nil }

    /// Whether `instance` is (or, stopped, would start as) a standby: a promotion removes the file.
    static func isStandby(_ instance: LocalClusterState.Postgres.Instance) -> Bool {
        FileManager.default.fileExists(atPath: "\(instance.dataDirectory)/standby.signal")
    }

    /// Runs one PostgreSQL tool to completion (as `postgres` when we are root), in the network
    /// namespace of `instance` when it has one (a server started so listens there), its output
    /// appended to `log`; throws with the log's tail when it fails.
    func run(_ tool: String, _ arguments: [String], log: String, in instance: LocalClusterState.Postgres.Instance) throws {
        let asRoot = getuid() == 0
        if asRoot, !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            try handOver(log)
        }
        // nsenter first (it needs root), then the change of user.
        let namespace = instance.networkNamespace.map { ["/usr/bin/nsenter", "--net=\($0)"] } ?? []
        let user = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        let command = namespace + user + ["\(binDirectory)/\(tool)"] + arguments
        let pid = try BackgroundProcess.spawn(command[0], Array(command.dropFirst()), logPath: log)
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
