import Foundation
import NIOCore
import Testing
@testable import RadonStorage
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// A slot's previous version, kept over a client's overwrite until the client confirms it.
@Suite struct PreviousVersionTests {
    static let capacity: UInt32 = 64 << 10

    func slot(_ block: UInt64, version: UInt64) -> FragmentSlotWrite {
        FragmentSlotWrite(blockIndex: block, version: version, effectiveLength: Self.capacity,
                          bytes: fragmentBytes(block: block, version: version, count: Int(Self.capacity)))
    }

    func write(_ node: TestStorageNode, _ block: UInt64, version: UInt64, keepPrevious: Bool) async throws -> WriteFragmentsReply {
        try await node.client.writeFragment(group: 1, inode: 7, fragmentIndex: 0, fragmentCapacity: Self.capacity,
                                            slot: slot(block, version: version), keepPrevious: keepPrevious)
    }

    func previous(_ node: TestStorageNode, _ block: UInt64) async throws -> StoredFragment? {
        try await node.client.readPreviousFragments(group: 1, inode: 7, fragmentIndex: 0, blockIndices: [block]).first?.fragment
    }

    func current(_ node: TestStorageNode, _ block: UInt64) async throws -> StoredFragment? {
        try await node.client.readFragments(group: 1, inode: 7, fragmentIndex: 0, blockIndices: [block]).first?.fragment
    }

    /// Bytes the file system holds for the previous copies of inode 7.
    func previousBytesOnDisk(_ node: TestStorageNode) -> Int {
        var info = stat()
        guard stat("\(node.directory)/g1/7.0.prev", &info) == 0 else { return 0 }
        return Int(info.st_blocks) * 512
    }

    @Test func overwriteKeepsTheOldVersionUntilDropped() async throws {
        try await withStorageNode { node in
            // A first write has nothing to keep.
            #expect(try await write(node, 0, version: 10, keepPrevious: true).blocksWithPrevious.isEmpty)
            #expect(try await previous(node, 0) == .missing)
            // An overwrite keeps version 10 beside 20.
            #expect(try await write(node, 0, version: 20, keepPrevious: true).blocksWithPrevious == [0])
            #expect(try await current(node, 0)?.version == 20)
            #expect(try await previous(node, 0)?.bytesArray == fragmentBytes(block: 0, version: 10, count: Int(Self.capacity)))
            // Another overwrite before 20 was confirmed: 20 goes, 10 stays (the last one that
            // may be the block's decodable version).
            #expect(try await write(node, 0, version: 30, keepPrevious: true).blocksWithPrevious == [0])
            #expect(try await current(node, 0)?.version == 30)
            #expect(try await previous(node, 0)?.version == 10)
            // A drop for an older version leaves it; the confirmation of 30 drops it, and its
            // disk blocks are given back.
            let held = previousBytesOnDisk(node)
            #expect(held >= Int(Self.capacity))
            try await node.client.dropPrevious(group: 1, inode: 7, fragmentIndex: 0, slots: [(0, 5)])
            #expect(try await previous(node, 0)?.version == 10)
            try await node.client.dropPrevious(group: 1, inode: 7, fragmentIndex: 0, slots: [(0, 30)])
            #expect(try await previous(node, 0) == .missing)
            #expect(try await current(node, 0)?.version == 30)
            #expect(previousBytesOnDisk(node) < held - Int(Self.capacity) / 2, "the dropped copy's blocks are freed")
        }
    }

    @Test func repairsAndStaleWritesKeepNothing() async throws {
        try await withStorageNode { node in
            _ = try await write(node, 3, version: 10, keepPrevious: false)
            // A repair or a healing write (no keepPrevious) replaces without a copy.
            #expect(try await write(node, 3, version: 11, keepPrevious: false).blocksWithPrevious.isEmpty)
            #expect(try await previous(node, 3) == .missing)
            // An older version is refused and keeps nothing either.
            let stale = try await write(node, 3, version: 9, keepPrevious: true)
            #expect(stale.staleSlots == [StaleSlot(blockIndex: 3, storedVersion: 11)])
            #expect(try await previous(node, 3) == .missing)
            // Truncation and deletion take the previous copies with them.
            _ = try await write(node, 3, version: 12, keepPrevious: true)
            #expect(try await previous(node, 3)?.version == 11)
            try await node.client.truncate(group: 1, inode: 7, blockCount: 3)
            #expect(try await previous(node, 3) == .missing)
            _ = try await write(node, 3, version: 13, keepPrevious: false)
            _ = try await write(node, 3, version: 14, keepPrevious: true)
            #expect(try await previous(node, 3)?.version == 13)
            #expect(try await node.client.deleteFile(group: 1, inode: 7) == 1, "previous copies are not counted as fragment files")
            #expect(!FileManager.default.fileExists(atPath: "\(node.directory)/g1/7.0.prev"))
            // Listing shows the fragment files only.
            _ = try await write(node, 0, version: 20, keepPrevious: true)
            _ = try await write(node, 0, version: 21, keepPrevious: true)
            #expect(try await node.client.listFiles(group: 1).map(\.inode) == [7])
        }
    }
}
