import Foundation
import NIOCore
import Testing
@testable import RadonStorage
import RadonWire

@Suite struct FragmentStoreTests {
    @Test func slotsRoundTripWithVersionsAndHoles() async throws {
        try await withStorageNode { node in
            let capacity: UInt32 = 4096
            let slots = [0, 1, 5].map { block in
                FragmentSlotWrite(blockIndex: UInt64(block), version: 7, effectiveLength: 10_000 + UInt32(block),
                                  bytes: fragmentBytes(block: UInt64(block), version: 7, count: block == 5 ? 100 : Int(capacity)))
            }
            let stale = try await node.client.writeFragments(group: 3, inode: 42, fragmentIndex: 2, fragmentCapacity: capacity, slots: slots)
            #expect(stale.isEmpty)
            let results = try await node.client.readFragments(group: 3, inode: 42, fragmentIndex: 2, blockRange: 0..<8)
            #expect(results.map(\.blockIndex) == Array(0..<8))
            for result in results {
                switch result.blockIndex {
                case 0, 1, 5:
                    guard case let .present(version, length, bytes, _) = result.fragment else {
                        Issue.record("block \(result.blockIndex) is \(result.fragment)")
                        continue
                    }
                    #expect(version == 7)
                    #expect(length == 10_000 + UInt32(result.blockIndex))
                    #expect(Array(bytes.readableBytesView) == fragmentBytes(block: result.blockIndex, version: 7, count: result.blockIndex == 5 ? 100 : Int(capacity)))
                default:
                    #expect(result.fragment == .missing)
                }
            }
            // Another fragment index, another group, an unknown inode: all missing, not errors.
            #expect(try await node.client.readFragments(group: 3, inode: 42, fragmentIndex: 1, blockIndices: [0]).first?.fragment == .missing)
            #expect(try await node.client.readFragments(group: 4, inode: 42, fragmentIndex: 2, blockIndices: [0]).first?.fragment == .missing)
            // Versions only: no bytes travel, the health is the same.
            let versions = try await node.client.readFragments(group: 3, inode: 42, fragmentIndex: 2, blocks: .indices([5, 0, 2]), includeBytes: false)
            #expect(versions.map(\.blockIndex) == [5, 0, 2])
            #expect(versions.map(\.fragment.version) == [7, 7, nil])
        }
    }

    @Test func olderVersionsNeverOverwriteNewerOnes() async throws {
        try await withStorageNode { node in
            let write = { (version: UInt64, blocks: [UInt64]) in
                try await node.client.writeFragments(
                    group: 1, inode: 9, fragmentIndex: 0, fragmentCapacity: 64,
                    slots: blocks.map { FragmentSlotWrite(blockIndex: $0, version: version, effectiveLength: 64, bytes: fragmentBytes(block: $0, version: version, count: 64)) }
                )
            }
            #expect(try await write(5, [0, 1]).isEmpty)
            let stale = try await write(4, [0, 1, 2])
            #expect(stale == [StaleSlot(blockIndex: 0, storedVersion: 5), StaleSlot(blockIndex: 1, storedVersion: 5)])
            // The same version again (a retry, a repair) and a newer one are written.
            #expect(try await write(5, [0]).isEmpty)
            #expect(try await write(6, [1]).isEmpty)
            let results = try await node.client.readFragments(group: 1, inode: 9, fragmentIndex: 0, blockRange: 0..<3)
            #expect(results.map(\.fragment.version) == [5, 6, 4])
            #expect(results[0].fragment.bytesArray == fragmentBytes(block: 0, version: 5, count: 64))
            #expect(results[1].fragment.bytesArray == fragmentBytes(block: 1, version: 6, count: 64))
        }
    }

    @Test func badWritesAreRefusedWholeAndChangeNothing() async throws {
        try await withStorageNode { node in
            let good = FragmentSlotWrite(blockIndex: 0, version: 1, effectiveLength: 8, bytes: [1, 2, 3, 4, 5, 6, 7, 8])
            try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: 8, slots: [good])
            let tooBig = FragmentSlotWrite(blockIndex: 1, version: 2, effectiveLength: 9, bytes: Array(repeating: 9, count: 9))
            let overwrite = FragmentSlotWrite(blockIndex: 0, version: 2, effectiveLength: 8, bytes: Array(repeating: 0, count: 8))
            let oversize = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: 8, slots: [overwrite, tooBig])
            }
            #expect(oversize?.status == .invalidArgument)
            let otherCapacity = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: 16, slots: [overwrite])
            }
            #expect(otherCapacity?.status == .invalidArgument)
            let zero = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: 0, slots: [FragmentSlotWrite]())
            }
            #expect(zero?.status == .invalidArgument)
            let far = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 0, inode: 1, fragmentIndex: 0, fragmentCapacity: 8,
                                                     slots: [FragmentSlotWrite(blockIndex: .max, version: 1, effectiveLength: 1, bytes: [1])])
            }
            #expect(far?.status == .invalidArgument)
            let read = try await node.client.readFragments(group: 0, inode: 1, fragmentIndex: 0, blockIndices: [0, 1])
            #expect(read[0].fragment == .intact(version: 1, effectiveLength: 8, bytes: ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7, 8])))
            #expect(read[1].fragment == .missing)
        }
    }

    @Test func corruptionOnDiskIsReportedNeverServed() async throws {
        try await withStorageNode { node in
            let capacity = 1000
            let slots = (0..<4).map { FragmentSlotWrite(blockIndex: UInt64($0), version: 3, effectiveLength: 1, bytes: fragmentBytes(block: UInt64($0), version: 3, count: capacity)) }
            try await node.client.writeFragments(group: 2, inode: 77, fragmentIndex: 1, fragmentCapacity: UInt32(capacity), slots: slots)
            let path = "\(node.directory)/g2/77.1"
            let slotSize = FragmentFileHeader(group: 2, inode: 77, fragmentIndex: 1, fragmentCapacity: UInt32(capacity)).slotSize
            // Block 1: one flipped bit in the fragment bytes. Block 2: a damaged header field.
            // Block 3: the whole slot overwritten with garbage.
            try flipBits(in: path, at: FragmentFileHeader.length + slotSize + SlotHeader.length + 500, mask: 0x01)
            try flipBits(in: path, at: FragmentFileHeader.length + 2 * slotSize + 9, mask: 0x80)
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(FragmentFileHeader.length + 3 * slotSize))
            try handle.write(contentsOf: Array(repeating: UInt8(0x5A), count: slotSize))
            try handle.close()

            let results = try await node.client.readFragments(group: 2, inode: 77, fragmentIndex: 1, blockRange: 0..<4)
            #expect(results[0].fragment.bytesArray == fragmentBytes(block: 0, version: 3, count: capacity))
            #expect(results[1].fragment == .corrupt)
            #expect(results[2].fragment == .corrupt)
            #expect(results[3].fragment == .corrupt)
            // A repair (same version) overwrites a corrupt slot; it reads back right.
            try await node.client.writeFragments(group: 2, inode: 77, fragmentIndex: 1, fragmentCapacity: UInt32(capacity), slots: [slots[1]])
            let repaired = try await node.client.readFragments(group: 2, inode: 77, fragmentIndex: 1, blockIndices: [1])
            #expect(repaired[0].fragment.bytesArray == fragmentBytes(block: 1, version: 3, count: capacity))

            // A damaged file header: no slot of the file can be trusted.
            let header = try #require(FileHandle(forUpdatingAtPath: path))
            try header.seek(toOffset: 21)
            try header.write(contentsOf: [0xFF])
            try header.close()
            let blind = try await node.client.readFragments(group: 2, inode: 77, fragmentIndex: 1, blockRange: 0..<2)
            #expect(blind.map(\.fragment) == [.corrupt, .corrupt])
        }
    }

    @Test func readsLargerThanAFrameComeBackWhole() async throws {
        try await withStorageNode { node in
            let capacity = 1 << 20
            let slots = (0..<40).map { FragmentSlotWrite(blockIndex: UInt64($0), version: 1, effectiveLength: UInt32(capacity), bytes: fragmentBytes(block: UInt64($0), version: 1, count: capacity)) }
            // 40 MiB: the client splits the write into frames, and the read into replies.
            try await node.client.writeFragments(group: 0, inode: 5, fragmentIndex: 3, fragmentCapacity: UInt32(capacity), slots: slots)
            let results = try await node.client.readFragments(group: 0, inode: 5, fragmentIndex: 3, blockRange: 0..<41)
            #expect(results.count == 41)
            for block in 0..<40 {
                #expect(results[block].fragment == .intact(version: 1, effectiveLength: UInt32(capacity), bytes: slots[block].bytes))
            }
            #expect(results[40].fragment == .missing)
        }
    }

    @Test func deleteTruncateAndListings() async throws {
        try await withStorageNode { node in
            for (group, inode, index) in [(1, 10, 0), (1, 10, 4), (1, 11, 2), (2, 10, 1)] as [(UInt32, UInt64, UInt8)] {
                let slots = (0..<5).map { FragmentSlotWrite(blockIndex: UInt64($0), version: 1, effectiveLength: 16, bytes: Array(repeating: UInt8($0), count: 16)) }
                try await node.client.writeFragments(group: group, inode: inode, fragmentIndex: index, fragmentCapacity: 16, slots: slots)
            }
            #expect(try await node.client.listGroups() == [1, 2])
            #expect(try await node.client.listFiles(group: 1) == [
                FragmentFileInfo(inode: 10, fragmentIndex: 0, blockCount: 5, fragmentCapacity: 16),
                FragmentFileInfo(inode: 10, fragmentIndex: 4, blockCount: 5, fragmentCapacity: 16),
                FragmentFileInfo(inode: 11, fragmentIndex: 2, blockCount: 5, fragmentCapacity: 16),
            ])
            let status = try await node.client.nodeStatus()
            #expect(status.fragmentFileCount == 4 && status.groupCount == 2)
            #expect(status.capacityBytes > 0 && status.freeBytes <= status.capacityBytes)

            try await node.client.truncate(group: 1, inode: 10, blockCount: 2)
            let truncated = try await node.client.readFragments(group: 1, inode: 10, fragmentIndex: 4, blockRange: 0..<5)
            #expect(truncated.map(\.fragment.version) == [1, 1, nil, nil, nil])
            #expect(try await node.client.listFiles(group: 1).first?.blockCount == 2)

            #expect(try await node.client.deleteFile(group: 1, inode: 10) == 2)
            #expect(try await node.client.deleteFile(group: 1, inode: 10) == 0)
            #expect(try await node.client.listFiles(group: 1).map(\.inode) == [11])
            #expect(try await node.client.readFragments(group: 2, inode: 10, fragmentIndex: 1, blockIndices: [4]).first?.fragment.version == 1)
            #expect(try await node.client.nodeStatus().fragmentFileCount == 2)
        }
    }

    @Test func dataSurvivesADaemonRestartAndTheDirectoryIsExclusive() async throws {
        let directory = temporaryDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = fragmentBytes(block: 3, version: 9, count: 300)
        let uuid = try await withStorageNode(directory: directory) { node in
            try await node.client.writeFragments(group: 8, inode: 1, fragmentIndex: 0, fragmentCapacity: 512,
                                                 slots: [FragmentSlotWrite(blockIndex: 3, version: 9, effectiveLength: 300, bytes: bytes)])
            // A second daemon on the same directory is refused.
            #expect(throws: WireError.self) { _ = try FragmentStore(directory: directory) }
            return node.daemon.uuid
        }
        try await withStorageNode(directory: directory) { (node: TestStorageNode) async throws in
            #expect(node.daemon.uuid == uuid)
            #expect(try await node.client.readFragments(group: 8, inode: 1, fragmentIndex: 0, blockIndices: [3]).first?.fragment.bytesArray == bytes)
            #expect(try await node.client.nodeStatus().fragmentFileCount == 1)
        }
    }
}
