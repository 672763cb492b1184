import Foundation
import RadonWire

/// The block map of a block-stored file: bit i set when block i was ever written (the client
/// names the blocks it wrote when it publishes its size), cleared past the end on truncation.
/// `allocated` is what st_blocks reports: the written blocks' bytes within the file's size, so
/// the holes of a sparse file count nothing.
///
/// A file without a map (written before maps existed) counts as dense up to its size: the first
/// change that needs a map starts one with every block below the old size set.
extension SQLTransaction {
    /// Marks `runs` written and recomputes the allocated bytes for `record`'s size (into `record`); `previousSize`
    /// is the size before this change (for a file that has no map yet).
    func updateBlockMap(of record: inout InodeRecord, writing runs: [BlockRun], previousSize: UInt64) throws {
        guard record.kind == .regular, !record.isInline, let volumeID = record.volumeID else { return }
        guard let blockSize: UInt64 = try self.row("SELECT block_size FROM volume WHERE id = ?", [volumeID])?[0], blockSize > 0 else { return }
        var bits: [UInt8]
        if let row = try self.row("SELECT bits FROM block_map WHERE inode = ?", [record.id]) {
            bits = [UInt8]((row[0] as Data?) ?? Data())
        } else {
            bits = []
            let dense = (previousSize + blockSize - 1) / blockSize
            if dense > 0 { Self.set(&bits, 0, count: dense) }
        }
        for run in runs where run.count > 0 { Self.set(&bits, run.first, count: run.count) }
        let blockCount = (record.size + blockSize - 1) / blockSize
        // Nothing past the end stays marked: a later extension reads those blocks as holes.
        let keptBytes = Int((blockCount + 7) / 8)
        if bits.count > keptBytes { bits.removeLast(bits.count - keptBytes) }
        if blockCount % 8 != 0, keptBytes > 0, keptBytes <= bits.count {
            bits[keptBytes - 1] &= UInt8((1 << (blockCount % 8)) - 1)
        }
        var allocated: UInt64 = 0
        for index in 0..<blockCount where Self.isSet(bits, index) {
            allocated += min(blockSize, record.size - index * blockSize)
        }
        try self.execute("INSERT INTO block_map (inode, bits, allocated) VALUES (?, ?, ?) ON CONFLICT (inode) DO UPDATE SET bits = excluded.bits, allocated = excluded.allocated", [record.id, Data(bits), allocated])
        record.allocatedBytes = allocated
    }

    static func set(_ bits: inout [UInt8], _ first: UInt64, count: UInt64) {
        // A run past any sane file (2^40 blocks) is refused by the request's validation first.
        let last = first + count - 1
        let needed = Int(last / 8) + 1
        if bits.count < needed { bits += [UInt8](repeating: 0, count: needed - bits.count) }
        for index in first...last { bits[Int(index / 8)] |= 1 << (index % 8) }
    }

    static func isSet(_ bits: [UInt8], _ index: UInt64) -> Bool {
        let byte = Int(index / 8)
        return byte < bits.count && bits[byte] & (1 << (index % 8)) != 0
    }
}
