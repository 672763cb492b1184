import RadonWire

/// The text of the reads that hot paths prefetch, shared by the reading helper and its
/// `prefetch...` twin: a prefetched answer is only used for the same text and arguments, so
/// the two must never drift apart.
enum StoreQuery {
    static let inode = "SELECT \(InodeRecord.columns) FROM inode WHERE id = ?"
    static let entry = "SELECT id, inode FROM dentry WHERE parent = ? AND name = ?"
    /// A directory, its entry `name` and the entry's inode in one statement
    /// (`DirectoryEntryLookup`): the directory's `InodeRecord` columns, the entry's row id and
    /// inode number, then the inode's columns; NULL where there is no entry of that name, and no
    /// row when the directory does not exist. Arguments: name, directory.
    static let entryWithInodes = """
        SELECT \(InodeRecord.columns(of: "p")), d.id, d.inode, \(InodeRecord.columns(of: "c")) FROM inode p
        LEFT JOIN dentry d ON d.parent = p.id AND d.name = ?1 LEFT JOIN inode c ON c.id = d.inode WHERE p.id = ?2
        """
    static let inlineData = "SELECT inline_data FROM inode WHERE id = ?"
    /// getxattr in one statement: a row when the inode exists, its value NULL when the
    /// attribute does not. Arguments: name, inode.
    static let extendedAttributeOfInode = """
        SELECT x.value FROM inode i LEFT JOIN xattr x ON x.inode = i.id AND x.name = ?1 WHERE i.id = ?2
        """
    /// readlink in one statement. Arguments: inode.
    static let symbolicLinkTarget = "SELECT kind, symlink_target FROM inode WHERE id = ?"
    /// The volume columns `SQLTransaction.volume(from:)` reads, in its order.
    private static let volumeColumnNames = ["id", "name", "codec", "k", "n", "block_size", "inline_threshold", "group_count", "is_default"]
    static let volumeColumns = volumeColumnNames.joined(separator: ", ")
    /// How many columns `volumeColumns` names.
    static let volumeColumnCount = volumeColumnNames.count

    /// `volumeColumns`, each prefixed with `table`.
    static func volumeColumns(of table: String) -> String {
        volumeColumnNames.map { "\(table).\($0)" }.joined(separator: ", ")
    }
    static let volume = "SELECT \(volumeColumns) FROM volume WHERE id = ?"
    static let defaultVolume = "SELECT \(volumeColumns) FROM volume WHERE is_default = 1 LIMIT 1"
    /// The columns `placementGroup(from:)` reads, in its order.
    static let placementGroupColumns = "id, volume_id, idx, epoch, members"
    static let placementGroup = "SELECT \(placementGroupColumns) FROM placement_group WHERE id = ?"
    /// The volume a new file in a directory goes to: the directory's, or the default volume
    /// when it has none (or names one that is gone). Argument ?1: the directory.
    private static let volumeIDForNewFile = """
        COALESCE((SELECT v.id FROM inode p JOIN volume v ON v.id = p.volume_id WHERE p.id = ?1),
                 (SELECT id FROM volume WHERE is_default = 1 LIMIT 1))
        """
    /// `volumeForNewFile(inDirectory:)`. Arguments: directory.
    static let volumeForNewFile = "SELECT \(volumeColumns) FROM volume WHERE id = \(volumeIDForNewFile)"
    /// The volume of a stored inode. Arguments: inode.
    static let volumeOfInode = "SELECT \(volumeColumns) FROM volume WHERE id = (SELECT volume_id FROM inode WHERE id = ?)"
    static let nodeEndpoints = "SELECT id, host, port, state, extra_addresses FROM node"
    static let mapEpoch = "SELECT value FROM counter WHERE name = 'map_epoch'"
    /// `nodeEndpoints` and `mapEpoch` in one statement, as every layout needs both: the map
    /// epoch's row has NULL in the node columns and its value last; each node's row has NULL
    /// last.
    static let nodeEndpointsAndMapEpoch = """
        SELECT NULL, NULL, NULL, NULL, NULL, value FROM counter WHERE name = 'map_epoch'
        UNION ALL SELECT id, host, port, state, extra_addresses, NULL FROM node
        """
    /// `volumeForNewFile` and the group `placementGroup(forNewFile:volumeID:)` picks in it, in
    /// one statement: the volume's columns, then the group's (NULL when the volume has none).
    /// Arguments: directory, the new inode's number.
    static let placementForNewFile = """
        SELECT \(volumeColumns(of: "v")), g.id, g.volume_id, g.idx, g.epoch, g.members FROM volume v
        LEFT JOIN placement_group g ON g.volume_id = v.id AND g.idx = ?2 % v.group_count
        WHERE v.id = \(volumeIDForNewFile)
        """
}

/// Prefetches of the reads a hot path is about to make (see `SQLTransaction.prefetch`): on
/// PostgreSQL, reads that do not depend on each other then cost one round trip together.
extension SQLTransaction {
    func prefetchInode(_ id: UInt64) { prefetch(StoreQuery.inode, [id]) }

    func prefetchEntry(in parent: UInt64, named name: FileName) { prefetch(StoreQuery.entry, [parent, name]) }

    func prefetchInlineBytes(of inode: UInt64) { prefetch(StoreQuery.inlineData, [inode]) }

    func prefetchVolume(ofInode inode: UInt64) { prefetch(StoreQuery.volumeOfInode, [inode]) }

    /// What a create of a regular file in `directory` reads before its first write: the
    /// volume and, when the new inode's number is known ahead, its placement group with it.
    func prefetchPlacement(forNewFile inode: UInt64?, in directory: UInt64) {
        if let inode {
            prefetch(StoreQuery.placementForNewFile, [directory, Int64(bitPattern: inode)])
        } else {
            prefetch(StoreQuery.volumeForNewFile, [directory])
        }
    }

    /// Everything `layout(of:)` reads after the inode row, and its inline bytes.
    func prefetchLayout(of record: InodeRecord) {
        if let groupID = record.groupID { prefetch(StoreQuery.placementGroup, [groupID]) }
        if let volumeID = record.volumeID { prefetch(StoreQuery.volume, [volumeID]) }
        prefetchNodesAndMapEpoch()
        if record.isInline { prefetchInlineBytes(of: record.id) }
    }

    /// The node addresses and map epoch a layout names (`nodeEndpoints`, `mapEpoch`).
    func prefetchNodesAndMapEpoch() {
        prefetch(StoreQuery.nodeEndpointsAndMapEpoch, SQLArguments())
    }
}
