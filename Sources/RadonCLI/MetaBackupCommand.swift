import ArgumentParser
import Foundation
import RadonMeta
import RadonWire

/// `radonfs meta backup`: a consistent copy of the metadata database while the service keeps
/// serving (SQLite's online backup API; pg_dump for a postgres:// database).
struct MetaBackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the metadata database, consistently, while the service keeps serving.",
        discussion: """
            SQLite: a snapshot through the online backup API, written to a temporary file and \
            renamed to --to, a database of its own (no -wal file). PostgreSQL (--db postgres://...): \
            pg_dump in its custom format (Debian's postgresql-client must be installed).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The metadata database: an SQLite file or a postgres:// URL.", valueName: "path|url"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("A local cluster directory (its metadata database is backed up).", valueName: "dir"))
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("The backup file to write.", valueName: "file"))
    var to: String

    func validate() throws {
        guard (db == nil) != (dir == nil) else { throw ValidationError("give either --db or --dir") }
    }

    func run() throws {
        PrivateState.restrictNewFiles()  // the backup holds every name of the namespace
        let database = try db ?? MetaDatabaseLocation.database(ofCluster: dir ?? "")
        if PostgresDatabaseURL.isPostgres(database) {
            try PostgresTools.run("pg_dump", ["--format=custom", "--file", to, "--dbname", database])
        } else {
            do {
                try SQLiteMetadataBackup.backup(database: database, to: to)
            } catch {
                throw CLIError("backup of \(database) failed: \(error)")
            }
        }
        print("backed up \(database) to \(to)")
    }
}

/// `radonfs meta restore`: puts a backup back as the metadata database of a stopped service.
struct MetaRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a metadata database from a backup (the service must be stopped).",
        discussion: """
            Refuses while a process has the database open. An SQLite database already at --db is \
            moved aside (PATH.replaced-TIME, with its -wal and -shm), never deleted. For a \
            postgres:// --db, pg_restore --clean replaces the database's objects; it refuses while \
            other sessions are connected to that database.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The backup file (from `radonfs meta backup`).", valueName: "file"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("The metadata database to restore into: an SQLite file or a postgres:// URL.", valueName: "path|url"))
    var db: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: from) else { throw CLIError("no backup file \(from)") }
        if PostgresDatabaseURL.isPostgres(db) {
            let others = try PostgresTools.output("psql", ["--no-psqlrc", "--tuples-only", "--no-align", "--dbname", db, "--command",
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"])
            guard others.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
                throw CLIError("\(db) has other sessions connected (a metadata service?): stop them before restoring")
            }
            try PostgresTools.run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--exit-on-error", "--dbname", db, from])
            // As for SQLite: files made after the backup may have fragments on the nodes still,
            // so new files must not take their inode numbers.
            try PostgresTools.run("psql", ["--no-psqlrc", "--quiet", "--dbname", db, "--command",
                "SELECT setval('inode_id_seq', (SELECT last_value FROM inode_id_seq) + \(SQLiteMetadataBackup.inodeNumberGap))"])
            print("restored \(from) into \(db); inode numbers go on \(SQLiteMetadataBackup.inodeNumberGap) past the backup's")
            return
        }
        if let user = MetaDatabaseLocation.processUsing(db) {
            throw CLIError("\(db) is in use by process \(user): stop the metadata service before restoring")
        }
        do {
            let aside = try SQLiteMetadataBackup.restore(from: from, to: db)
            for path in aside { print("kept the previous \(path)") }
        } catch {
            throw CLIError("restore of \(from) into \(db) failed: \(error)")
        }
        print("restored \(from) as \(db)")
    }
}

/// Where the metadata database is, and whether something has it open.
enum MetaDatabaseLocation {
    /// The database file of the local cluster in `directory` (as cluster.json records it).
    static func database(ofCluster directory: String) throws -> String {
        try LocalClusterState.load(from: directory).meta.dataPath
    }

    /// The pid of a process holding `path` (or its -wal or -shm) open, found in /proc; nil if none.
    static func processUsing(_ path: String) -> Int32? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let names = Set(["", "-wal", "-shm"].map { target + $0 })
        let manager = FileManager.default
        guard let processes = try? manager.contentsOfDirectory(atPath: "/proc") else { return nil }
        for process in processes {
            guard let pid = Int32(process), pid != getpid(),
                  let descriptors = try? manager.contentsOfDirectory(atPath: "/proc/\(process)/fd") else { continue }
            for descriptor in descriptors {
                if let link = try? manager.destinationOfSymbolicLink(atPath: "/proc/\(process)/fd/\(descriptor)"), names.contains(link) {
                    return pid
                }
            }
        }
        return nil
    }
}

/// Runs the PostgreSQL client tools (pg_dump, pg_restore, psql) found on PATH.
enum PostgresTools {
    /// `url` asking libpq for the read-write server among its hosts (the primary of a
    /// replicated database, as the metadata servers pick it), unless it asks otherwise.
    static func primaryOnly(_ url: String) -> String {
        guard !url.contains("target_session_attrs") else { return url }
        return url + (url.contains("?") ? "&" : "?") + "target_session_attrs=read-write"
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        _ = try output(tool, arguments)
    }

    /// Runs `tool` and returns its standard output; throws with its standard error when it fails.
    static func output(_ tool: String, _ arguments: [String]) throws -> String {
        let path = ["/usr/bin", "/usr/local/bin", "/usr/lib/postgresql/current/bin"]
            .map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            throw CLIError("\(tool) is not installed: install Debian's postgresql-client (apt-get install postgresql-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments.enumerated().map { index, argument in
            index > 0 && arguments[index - 1] == "--dbname" ? primaryOnly(argument) : argument
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("\(tool) failed (exit \(process.terminationStatus)): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}
