import Foundation
import GRDB

/// Copies of a metadata database, taken and put back with SQLite's online backup API.
///
/// A backup reads one consistent snapshot of the database (a read transaction over the WAL:
/// the running service keeps committing meanwhile and is never blocked), and what it writes is
/// a complete database file on its own (no -wal beside it). Both directions write a temporary
/// file next to the target and rename it into place, so the target is either the old file or
/// the whole new one, never a torn copy.
public enum SQLiteMetadataBackup {
    /// Writes a consistent copy of the database at `source` (which a service may be using) to
    /// `destination`. Throws when the source is not a RadonFS metadata database.
    public static func backup(database source: String, to destination: String) throws {
        let input = try openVerified(source)
        try copy(from: input, into: destination)
    }

    /// Puts the backup `backup` in place as the database `destination`, with inode numbers
    /// continuing `inodeNumberGap` past the backup's. The caller makes sure
    /// no service uses `destination`. An existing database there (with its -wal and -shm,
    /// which must not be replayed over the restored file) is moved aside, and the new names
    /// are returned.
    @discardableResult
    public static func restore(from backup: String, to destination: String) throws -> [String] {
        let input = try openVerified(backup)
        let manager = FileManager.default
        var movedAside: [String] = []
        let stamp = Int(Date().timeIntervalSince1970)
        for suffix in ["", "-wal", "-shm"] where manager.fileExists(atPath: destination + suffix) {
            let aside = "\(destination).replaced-\(stamp)\(suffix)"
            try manager.moveItem(atPath: destination + suffix, toPath: aside)
            movedAside.append(aside)
        }
        let directory = (destination as NSString).deletingLastPathComponent
        if !directory.isEmpty { try manager.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try copy(from: input, into: destination) { db in
            // Files created after the backup was taken are gone from the namespace, but their
            // fragments may still be on the nodes: new inodes must not take their numbers.
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'inode'", arguments: [inodeNumberGap])
        }
        return movedAside
    }

    /// How far inode numbers jump after a restore (more than any cluster creates between two
    /// backups, and far from the 2^63 limit).
    public static let inodeNumberGap: Int64 = 1 << 32

    /// Opens `path` read-only and checks that it is a metadata database (the namespace tables
    /// are there and SQLite finds it intact).
    static func openVerified(_ path: String) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError("\(path) does not exist") }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.read { db in
            guard try db.tableExists("inode"), try db.tableExists("dentry") else {
                throw BackupError("\(path) is not a RadonFS metadata database (no inode and dentry tables)")
            }
            let check = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
            guard check == "ok" else { throw BackupError("\(path) is damaged: \(check)") }
        }
        return queue
    }

    /// Backs `input` up into a temporary file beside `destination`, then renames it there.
    private static func copy(from input: DatabaseQueue, into destination: String,
                             adjust: (Database) throws -> Void = { _ in }) throws {
        let temporary = "\(destination).partial-\(getpid())"
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        do {
            let output = try DatabaseQueue(path: temporary)
            try input.backup(to: output)
            try output.write(adjust)
            // A file that stands alone: no WAL to carry along with it.
            try output.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try output.close()
            guard rename(temporary, destination) == 0 else {
                throw BackupError("cannot rename \(temporary) to \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
            throw error
        }
    }
}

/// A backup or restore that cannot be done, with the reason for the user.
public struct BackupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
