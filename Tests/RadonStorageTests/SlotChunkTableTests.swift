import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import RadonCodec
@testable import RadonStorage
import RadonWire
import Testing

/// Range reads from the chunks a range covers (`SlotChunkTable`), and their falling back to the
/// whole slot wherever a table cannot vouch for it.
@Suite struct SlotChunkTableTests {
    /// Three full chunks and a short fourth one.
    static let capacity = 3 * SlotChunkTable.chunkSize + 1000
    static let group: UInt32 = 4, inode: UInt64 = 21, fragmentIndex: UInt8 = 2

    var layout: FragmentFileHeader {
        FragmentFileHeader(group: Self.group, inode: Self.inode, fragmentIndex: Self.fragmentIndex, fragmentCapacity: UInt32(Self.capacity))
    }

    func slot(_ block: UInt64, version: UInt64) -> FragmentSlotWrite {
        FragmentSlotWrite(blockIndex: block, version: version, effectiveLength: UInt32(Self.capacity),
                          bytes: fragmentBytes(block: block, version: version, count: Self.capacity))
    }

    func write(_ node: TestStorageNode, _ slots: [FragmentSlotWrite]) async throws {
        _ = try await node.client.writeFragments(group: Self.group, inode: Self.inode, fragmentIndex: Self.fragmentIndex,
                                                 fragmentCapacity: UInt32(Self.capacity), slots: slots)
    }

    func range(_ node: TestStorageNode, block: UInt64, _ range: Range<Int>) async throws -> StoredFragment {
        try await node.client.readFragmentRange(group: Self.group, inode: Self.inode, fragmentIndex: Self.fragmentIndex,
                                                blockIndex: block, offset: UInt32(range.lowerBound), length: UInt32(range.count)).fragment
    }

    func whole(_ node: TestStorageNode, block: UInt64) async throws -> StoredFragment {
        try await node.client.readFragments(group: Self.group, inode: Self.inode, fragmentIndex: Self.fragmentIndex, blockIndices: [block])[0].fragment
    }

    func expected(block: UInt64, version: UInt64, _ range: Range<Int>) -> StoredFragment {
        .intact(version: version, effectiveLength: UInt32(Self.capacity),
                bytes: ByteBuffer(bytes: fragmentBytes(block: block, version: version, count: Self.capacity)[range]))
    }

    var path: (TestStorageNode) -> String {
        { "\($0.directory)/g\(Self.group)/\(Self.inode).\(Self.fragmentIndex)" }
    }

    @Test func aTableRoundTripsAndRefusesItselfDamaged() throws {
        let bytes = fragmentBytes(block: 3, version: 9, count: Self.capacity)
        let table = bytes.withUnsafeBytes { SlotChunkTable(version: 9, fragment: $0) }
        #expect(table.checksums.count == 4)
        #expect(table.checksums[3] == CRC32C.checksum(Array(bytes[(3 * SlotChunkTable.chunkSize)...])))
        #expect(table.bytes.count <= SlotChunkTable.length(forCapacity: Self.capacity))
        #expect(table.bytes.withUnsafeBytes { SlotChunkTable($0) } == table)
        var damaged = table.bytes
        damaged[14] ^= 0x01
        #expect(damaged.withUnsafeBytes { SlotChunkTable($0) } == nil)
        #expect([UInt8](repeating: 0, count: 40).withUnsafeBytes { SlotChunkTable($0) } == nil, "a zeroed table (a hole) vouches for nothing")
    }

    /// Only the chunks a range covers are read and checked: rot in another chunk of the slot
    /// leaves the range served (a whole-slot read refuses the slot), rot in a covered chunk
    /// refuses the range. Ranges across chunks and into the short last chunk are served whole.
    @Test func aRangeReadChecksTheChunksItCoversAndNoOthers() async throws {
        try await withStorageNode { node in
            try await write(node, [slot(0, version: 2), slot(1, version: 2)])
            let chunk = SlotChunkTable.chunkSize
            for wanted in [0..<10, (chunk - 5)..<(chunk + 5), (3 * chunk + 990)..<(3 * chunk + 1000), 100..<(Self.capacity)] {
                #expect(try await range(node, block: 1, wanted) == expected(block: 1, version: 2, wanted))
            }
            // Past the end of the fragment: clamped, as a whole-slot range read was.
            #expect(try await range(node, block: 1, (Self.capacity - 4)..<(Self.capacity + 100))
                == expected(block: 1, version: 2, (Self.capacity - 4)..<Self.capacity))

            // One bit in chunk 2 of block 1.
            let slotStart = try #require(layout.offset(ofBlock: 1))
            try flipBits(in: path(node), at: slotStart + SlotHeader.length + 2 * chunk + 77, mask: 0x10)
            #expect(try await whole(node, block: 1) == .corrupt)
            #expect(try await range(node, block: 1, 0..<100) == expected(block: 1, version: 2, 0..<100),
                    "a range in chunk 0 reads no other chunk")
            #expect(try await range(node, block: 1, (2 * chunk)..<(2 * chunk + 100)) == .corrupt)
            #expect(try await range(node, block: 1, (chunk + 10)..<(3 * chunk)) == .corrupt, "a range across the rotten chunk")
            // Block 0 is untouched.
            #expect(try await range(node, block: 0, (2 * chunk)..<(2 * chunk + 100)) == expected(block: 0, version: 2, (2 * chunk)..<(2 * chunk + 100)))
        }
    }

    /// A table that cannot vouch for its slot sends the range read to the whole slot and its
    /// header CRC: a table left from the version before (a crash between the slot's write and
    /// its table's) and a rotten table both serve the right bytes, and rot anywhere in the slot
    /// is then refused.
    @Test func aStaleOrRottenTableFallsBackToTheWholeSlot() async throws {
        try await withStorageNode { node in
            let tableOffset = try #require(layout.offset(ofBlock: 0)) + layout.chunkTableOffsetInSlot
            let tableLength = SlotChunkTable.length(forCapacity: Self.capacity)
            try await write(node, [slot(0, version: 1)])
            let handle = try #require(FileHandle(forUpdatingAtPath: path(node)))
            try handle.seek(toOffset: UInt64(tableOffset))
            let oldTable = try #require(try handle.read(upToCount: tableLength))
            try handle.close()

            try await write(node, [slot(0, version: 2)])
            let restore = try #require(FileHandle(forUpdatingAtPath: path(node)))
            try restore.seek(toOffset: UInt64(tableOffset))
            try restore.write(contentsOf: oldTable)
            try restore.close()
            #expect(try await range(node, block: 0, 10..<60) == expected(block: 0, version: 2, 10..<60), "a table of version 1 under a slot of version 2")

            try await write(node, [slot(0, version: 3)])
            try flipBits(in: path(node), at: tableOffset + 12 + 4, mask: 0x10)  // chunk 1's CRC in the table
            #expect(try await range(node, block: 0, 10..<60) == expected(block: 0, version: 3, 10..<60), "a rotten table")
            // With the table not vouching, rot outside the range is seen: the whole slot was checked.
            try flipBits(in: path(node), at: try #require(layout.offset(ofBlock: 0)) + SlotHeader.length + 3 * SlotChunkTable.chunkSize + 5, mask: 0x10)
            #expect(try await range(node, block: 0, 10..<60) == .corrupt)
        }
    }

    /// A fragment file made before chunk tables (format 1) keeps its format: written to, read
    /// whole and read by range (through the whole slot), with no table written into it.
    @Test func aFileWithoutChunkTablesStaysReadableAndWritable() async throws {
        try await withStorageNode { node in
            var old = layout
            old.format = FragmentFileHeader.formatWithoutChunkTables
            try FileManager.default.createDirectory(atPath: "\(node.directory)/g\(Self.group)", withIntermediateDirectories: true)
            try Data(old.bytes).write(to: URL(fileURLWithPath: path(node)))

            try await write(node, [slot(0, version: 5), slot(1, version: 5)])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path(node)))
            #expect(bytes.count == FragmentFileHeader.length + 2 * (SlotHeader.length + Self.capacity), "format 1 slots, no tables")
            #expect(FragmentFileHeader(Array(bytes.prefix(FragmentFileHeader.length)))?.format == FragmentFileHeader.formatWithoutChunkTables)
            #expect(try await whole(node, block: 1) == expected(block: 1, version: 5, 0..<Self.capacity))
            #expect(try await range(node, block: 1, 5000..<5100) == expected(block: 1, version: 5, 5000..<5100))
            try flipBits(in: path(node), at: FragmentFileHeader.length + SlotHeader.length + Self.capacity + SlotHeader.length + 9000, mask: 0x10)
            #expect(try await range(node, block: 1, 5000..<5100) == .corrupt, "the whole slot is checked")
        }
    }
}

/// The page-cache-only read a range read tries first, on the thread that got the request.
@Suite struct CachedReadTests {
    /// Cached bytes are read; a read past the end comes back nil (the waiting read tells the end
    /// of the file from bytes not cached); bytes dropped from the page cache come back nil
    /// instead of waiting for the disk, then are read again once a waiting read brought them in.
    @Test func onlyBytesInThePageCacheAreReadWithoutWaiting() throws {
        let directory = temporaryDirectory("cached-read")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/file"
        let bytes = (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try #require(try POSIXFile.openIfExists(path, flags: O_RDWR))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let first = try buffer.withUnsafeMutableBytes { try file.readIfCached(into: $0, at: 8192) }
        try #require(first != nil, "this kernel reads cached bytes with RWF_NOWAIT")
        #expect(first == 4096)
        #expect(buffer == Array(bytes[8192..<12288]))
        #expect(try buffer.withUnsafeMutableBytes { try file.readIfCached(into: $0, at: bytes.count - 100) } == nil, "short: past the end")

        try file.synchronize()
        #expect(posix_fadvise(file.descriptor, 0, 0, POSIX_FADV_DONTNEED) == 0)
        #expect(try buffer.withUnsafeMutableBytes { try file.readIfCached(into: $0, at: 40960) } == nil, "evicted: it would wait for the disk")
        #expect(try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: 40960) } == 4096)
        #expect(try buffer.withUnsafeMutableBytes { try file.readIfCached(into: $0, at: 40960) } == 4096)
        #expect(buffer == Array(bytes[40960..<45056]))
    }
}
