import RadonWire

extension SQLMetadataStore {
    /// Cookies: "." is 1, ".." is 2, and an entry's is its row id + 2. Row ids only grow
    /// (AUTOINCREMENT) and a renamed entry keeps its row, so a cookie stays valid across any
    /// concurrent insert or removal: a listing never repeats an entry, and sees every entry that
    /// existed throughout it.
    public func readDirectory(_ request: ReadDirectoryRequest) async throws -> [DirectoryEntry] {
        let limit = min(Int(request.limit), MetaLimits.maximumDirectoryBatch)
        guard limit > 0 else { return [] }
        return try await engine.read { db in
            let directory = try db.directory(request.inode)
            var entries: [DirectoryEntry] = []
            if request.cookie < 1 {
                entries.append(DirectoryEntry(name: ".", attributes: directory.attributes, cookie: 1))
            }
            if request.cookie < 2, entries.count < limit {
                let parent = try db.inode(directory.parent ?? directory.id)
                entries.append(DirectoryEntry(name: "..", attributes: parent.attributes, cookie: 2))
            }
            let remaining = limit - entries.count
            guard remaining > 0 else { return entries }
            let after = request.cookie >= 2 ? Int64(clamping: request.cookie - 2) : 0
            let rows = try db.rows(StoreQuery.entriesAfter, [directory.id, after, remaining])
            entries += try rows.map(DirectoryEntry.init(listedRow:))
            return entries
        }
    }
}

extension StoreQuery {
    /// A page of a directory's entries in listing order (row id), with their inodes' columns.
    /// Arguments: directory, the row id to start after, the most rows to read.
    static let entriesAfter = """
        SELECT dentry.id, dentry.name, \(InodeRecord.columns)
        FROM dentry JOIN inode ON inode.id = dentry.inode
        WHERE dentry.parent = ? AND dentry.id > ? ORDER BY dentry.id LIMIT ?
        """
}

extension DirectoryEntry {
    /// An entry from a row of `StoreQuery.entriesAfter`; its cookie is its row id + 2 (see
    /// `readDirectory`).
    init(listedRow row: SQLRow) throws {
        let entryID: Int64 = row[0]
        let name: FileName = row[1]
        let record = try InodeRecord(row: row, at: 2)
        self.init(name: name, attributes: record.attributes, cookie: UInt64(entryID) + 2)
    }
}
