import RadonWire

/// A directory, one name in it and the inode that name points at, read in one statement
/// (`StoreQuery.entryWithInodes`): on PostgreSQL one round trip where a directory, an entry
/// and an inode read apart cost three, and one wait where a read that depends on the entry's
/// answer (the inode) cost two.
///
/// Invariant: `target` is nil when `entry` is; `target` may also be nil with an `entry` only
/// if the schema's invariant broke (an entry naming an inode that is gone).
struct DirectoryEntryLookup {
    /// The parent, whatever its kind (callers check it is a directory, in their own order).
    var directory: InodeRecord
    /// The entry's row id (the readdir cookie's base) and inode; nil when there is no such name.
    var entry: (id: Int64, inode: UInt64)?
    /// The inode the entry names.
    var target: InodeRecord?

    /// Reads a row of `StoreQuery.entryWithInodes`.
    init(row: SQLRow) throws {
        directory = try InodeRecord(row: row)
        let entryColumn = InodeRecord.columnCount
        guard case .integer = row.values[entryColumn] else { return }
        entry = (row[entryColumn], row[entryColumn + 1])
        let targetColumn = entryColumn + 2
        if case .integer = row.values[targetColumn] { target = try InodeRecord(row: row, at: targetColumn) }
    }

    /// The entry's row id and inode, or ENOENT naming what is missing.
    func requireEntry(named name: FileName) throws -> (id: Int64, target: InodeRecord) {
        guard let entry else { throw FileSystemError.notFound("no \"\(name)\" in directory \(directory.id)") }
        guard let target else { throw FileSystemError.notFound("no inode \(entry.inode)") }
        return (entry.id, target)
    }
}

extension SQLTransaction {
    /// The directory `parent` with its entry `name` and that entry's inode, in one statement;
    /// ENOENT when there is no inode `parent` (whether it is a directory is the caller's check).
    func directoryEntry(in parent: UInt64, named name: FileName) throws -> DirectoryEntryLookup {
        guard let row = try row(StoreQuery.entryWithInodes, [name, parent]) else {
            throw FileSystemError.notFound("no inode \(parent)")
        }
        return try DirectoryEntryLookup(row: row)
    }
}
