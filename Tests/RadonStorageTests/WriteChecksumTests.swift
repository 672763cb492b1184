import Foundation
import NIOCore
import RadonCodec
@testable import RadonStorage
import RadonWire
import Testing

/// The daemon's side of the end-to-end checksums: a write is checked against the CRC32C its
/// sender computed before anything is written, and reads send the CRC the reader checks.
@Suite struct WriteChecksumTests {
    static let capacity = 4096

    func slot(_ block: UInt64, version: UInt64) -> FragmentSlotWrite {
        FragmentSlotWrite(blockIndex: block, version: version, effectiveLength: UInt32(Self.capacity),
                          bytes: fragmentBytes(block: block, version: version, count: Self.capacity))
    }

    /// `slot` with one bit of its bytes flipped after its checksum was computed.
    func damaged(_ slot: FragmentSlotWrite) -> FragmentSlotWrite {
        var bytes = Array(slot.bytes.readableBytesView)
        bytes[bytes.count / 3] ^= 0x04
        return FragmentSlotWrite(blockIndex: slot.blockIndex, version: slot.version, effectiveLength: slot.effectiveLength,
                                 bytes: ByteBuffer(bytes: bytes), checksum: slot.checksum)
    }

    @Test func aWriteWhoseChecksumDoesNotMatchIsRefusedWholeAndLeavesEverySlotAsItWas() async throws {
        try await withStorageNode { node in
            let write = { (slots: [FragmentSlotWrite]) in
                try await node.client.writeFragments(group: 5, inode: 8, fragmentIndex: 3, fragmentCapacity: UInt32(Self.capacity), slots: slots)
            }
            let first = [slot(0, version: 1), slot(1, version: 1)]
            #expect(try await write(first).isEmpty)
            let fileBefore = try Data(contentsOf: URL(fileURLWithPath: "\(node.directory)/g5/8.3"))

            // Version 2 of blocks 0-2; block 1's bytes changed after its CRC was computed.
            // Block 0 comes first and is intact: it must not be written either.
            let second = [slot(0, version: 2), slot(1, version: 2), slot(2, version: 2)]
            let refused = await #expect(throws: WireError.self) {
                try await write([second[0], damaged(second[1]), second[2]])
            }
            #expect(refused?.status == .corrupt)
            #expect(refused?.message.contains("checksum mismatch") == true, "\(String(describing: refused))")
            #expect(refused?.message.contains("block 1") == true, "\(String(describing: refused))")

            let after = try await node.client.readFragments(group: 5, inode: 8, fragmentIndex: 3, blockRange: 0..<3)
            #expect(after.map(\.fragment) == [.intact(version: 1, effectiveLength: UInt32(Self.capacity), bytes: first[0].bytes),
                                              .intact(version: 1, effectiveLength: UInt32(Self.capacity), bytes: first[1].bytes),
                                              .missing])
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(node.directory)/g5/8.3")) == fileBefore, "not a byte of the file changed")

            // The same request with its bytes intact is written, under the sender's CRCs.
            #expect(try await write(second).isEmpty)
            let written = try await node.client.readFragments(group: 5, inode: 8, fragmentIndex: 3, blockRange: 0..<3)
            for (result, slot) in zip(written, second) {
                guard case let .present(version, _, bytes, checksum) = result.fragment else {
                    Issue.record("block \(result.blockIndex) is \(result.fragment)")
                    continue
                }
                #expect(version == 2)
                #expect(bytes == slot.bytes)
                #expect(checksum == slot.checksum, "the stored CRC is the one the sender computed")
            }
        }
    }

    /// The stored CRC is the sender's, not one computed from the bytes that arrived: a sender
    /// that claims a wrong CRC for its bytes is refused, even when nothing was damaged on the
    /// way (the daemon cannot tell which side is wrong, so it stores neither).
    @Test func aWrongClaimedChecksumIsRefusedAndAnEmptyFragmentChecksAsZero() async throws {
        try await withStorageNode { node in
            let empty = FragmentSlotWrite(blockIndex: 0, version: 1, effectiveLength: 0, bytes: [])
            #expect(empty.checksum == 0)
            try await node.client.writeFragments(group: 1, inode: 2, fragmentIndex: 0, fragmentCapacity: 16, slots: [empty])
            let claimed = FragmentSlotWrite(blockIndex: 1, version: 1, effectiveLength: 3, bytes: [1, 2, 3], checksum: CRC32C.checksum([1, 2, 4]))
            let refused = await #expect(throws: WireError.self) {
                try await node.client.writeFragments(group: 1, inode: 2, fragmentIndex: 0, fragmentCapacity: 16, slots: [claimed])
            }
            #expect(refused?.status == .corrupt)
            let read = try await node.client.readFragments(group: 1, inode: 2, fragmentIndex: 0, blockRange: 0..<2)
            #expect(read.map(\.fragment) == [.intact(version: 1, effectiveLength: 0, bytes: ByteBuffer()), .missing])
        }
    }

    /// A range read: the daemon checks the chunks the range covers against the slot's chunk
    /// table, then sends the range with a CRC32C of the range (the stored CRC cannot vouch for
    /// part of the fragment). Rot in a chunk the range covers is refused.
    @Test func rangeReadsCarryTheRangesChecksumAndRotInTheRangeIsRefused() async throws {
        try await withStorageNode { node in
            let slots = [slot(0, version: 4), slot(1, version: 4)]
            try await node.client.writeFragments(group: 2, inode: 3, fragmentIndex: 1, fragmentCapacity: UInt32(Self.capacity), slots: slots)
            let range = try await node.client.readFragmentRange(group: 2, inode: 3, fragmentIndex: 1, blockIndex: 0, offset: 100, length: 50)
            let expected = ByteBuffer(bytes: Array(slots[0].bytes.readableBytesView)[100..<150])
            #expect(range.fragment == .intact(version: 4, effectiveLength: UInt32(Self.capacity), bytes: expected))
            #expect(range.fragment.verified == range.fragment)
            // Versions only: no bytes, the CRC of nothing.
            let version = try await node.client.readFragmentRange(group: 2, inode: 3, fragmentIndex: 1, blockIndex: 0, offset: 0, length: 0)
            #expect(version.fragment == .present(version: 4, effectiveLength: UInt32(Self.capacity), bytes: ByteBuffer(), checksum: 0))

            // Rot at byte 3000 of block 1's fragment, in the one chunk bytes 100..<150 lie in.
            let layout = FragmentFileHeader(group: 2, inode: 3, fragmentIndex: 1, fragmentCapacity: UInt32(Self.capacity))
            try flipBits(in: "\(node.directory)/g2/3.1", at: try #require(layout.offset(ofBlock: 1)) + SlotHeader.length + 3000, mask: 0x01)
            let rotten = try await node.client.readFragmentRange(group: 2, inode: 3, fragmentIndex: 1, blockIndex: 1, offset: 100, length: 50)
            #expect(rotten.fragment == .corrupt)
        }
    }
}

@Suite struct StoredFragmentChecksumTests {
    @Test func verifiedTurnsBytesThatDoNotMatchTheirChecksumIntoCorrupt() {
        let bytes: [UInt8] = [9, 8, 7, 6, 5]
        let intact = StoredFragment.present(version: 1, effectiveLength: 5, bytes: ByteBuffer(bytes: bytes), checksum: CRC32C.checksum(bytes))
        #expect(intact.verified == intact)
        var flipped = bytes
        flipped[2] ^= 0x80
        let damaged = StoredFragment.present(version: 1, effectiveLength: 5, bytes: ByteBuffer(bytes: flipped), checksum: CRC32C.checksum(bytes))
        #expect(damaged.verified == .corrupt)
        #expect(StoredFragment.missing.verified == .missing)
    }
}
