import Foundation
import RadonWire

/// The file inventory `radonfs fsck` compares with the storage nodes: every regular file that
/// is placed in a group, and every removed one whose fragments await deletion, in inode order.
extension SQLMetadataStore {
    public func fileInventory(after: UInt64, limit: Int) async throws -> FileInventoryReply {
        try await engine.read { db in
            let rows = try db.rows("""
                SELECT i.id, i.volume_id, i.group_id, i.size, COALESCE(v.block_size, 0), i.inline_data IS NOT NULL, b.bits, 0
                FROM inode i LEFT JOIN volume v ON v.id = i.volume_id LEFT JOIN block_map b ON b.inode = i.id
                WHERE i.id > ? AND i.kind = \(InodeKind.regular.rawValue) AND i.group_id IS NOT NULL
                UNION ALL
                SELECT r.inode, r.volume_id, r.group_id, r.size, COALESCE(v.block_size, 0), 1 = 0, NULL, 1
                FROM removed_file r LEFT JOIN volume v ON v.id = r.volume_id
                WHERE r.inode > ?
                ORDER BY 1 LIMIT ?
                """, [after, after, max(1, min(limit, 100_000))])
            let highest: UInt64 = try db.row("SELECT COALESCE(MAX(id), 0) FROM inode").map { $0[0] } ?? 0
            let entries = rows.map { row in
                let size: UInt64 = row[3]
                let blockSize: UInt32 = row[4]
                let bits: Data? = row[6]
                // A file without a block map counts as written up to its size (`updateBlockMap`).
                return FileInventoryEntry(
                    inode: row[0], volumeID: row[1], groupID: row[2], size: size, blockSize: blockSize,
                    writtenBlocks: bits.map { Self.blocksWritten(in: [UInt8]($0)) }
                        ?? FileInventoryEntry.blocks(within: size, blockSize: blockSize),
                    isInline: row[5], isAwaitingDeletion: (row[7] as Int64) != 0, isOpen: false)
            }
            return FileInventoryReply(entries: entries, highestInode: max(highest, entries.map(\.inode).max() ?? 0))
        }
    }

    /// One past the highest block set in a block map (0 when none is).
    static func blocksWritten(in bits: [UInt8]) -> UInt64 {
        guard let byte = bits.lastIndex(where: { $0 != 0 }) else { return 0 }
        return UInt64(byte * 8 + (8 - bits[byte].leadingZeroBitCount))
    }
}
