import Foundation
import Logging
import NIOCore
@testable import RadonClient
import RadonTestSupport
@testable import RadonStorage
import RadonWire
import Testing

/// Six storage daemons in this process, one 4+2 placement group over them, and the client's
/// block store reaching them through a `BitFlipTransport` over the real wire transport.
struct ChecksumTestGroup {
    let nodes: [TestStorageNode]
    let transport: BitFlipTransport
    let reporter: RecordingRepairReporter
    let store: BlockStore
    let layout: FileLayout

    static let blockSize = 64 << 10
    static let group: UInt32 = 1

    static func with(_ body: (ChecksumTestGroup) async throws -> Void) async throws {
        let key = ClusterKey.generate()
        var nodes: [TestStorageNode] = []
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        func stop() async {
            await pool.closeAll()
            for node in nodes { await node.stop() }
        }
        do {
            for _ in 0..<6 { nodes.append(try await TestStorageNode.start(key: key)) }
            let volume = VolumeSettings(id: 1, name: "v", codec: "mojette-systematic", k: 4, n: 6, blockSize: UInt32(blockSize),
                                        inlineThreshold: 0, groupCount: 1, isDefault: true)
            let members = nodes.enumerated().map { NodeEndpoint(id: UInt32($0.offset), address: $0.element.daemon.address, state: .up) }
            let layout = FileLayout(inode: 42, size: 0, isInline: false, volume: volume,
                                    group: PlacementGroup(id: group, volumeID: 1, index: 0, epoch: 1, members: (0..<6).map(UInt32.init)),
                                    members: members, mapEpoch: 1)
            var logger = Logger(label: "test.client")
            logger.logLevel = .error
            let transport = BitFlipTransport(base: StorageFragmentTransport(pool: pool))
            let reporter = RecordingRepairReporter()
            let store = BlockStore(transport: transport, clock: VersionClock(), repairs: reporter, logger: logger, hedgeDelay: .milliseconds(500))
            try await body(ChecksumTestGroup(nodes: nodes, transport: transport, reporter: reporter, store: store, layout: layout))
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// What the daemon at `fragmentIndex` holds for block `block`, read straight from it.
    func stored(fragmentIndex: Int, block: UInt64) async throws -> StoredFragment? {
        try await nodes[fragmentIndex].client.readFragments(
            group: Self.group, inode: layout.inode, fragmentIndex: UInt8(fragmentIndex), blockIndices: [block]).first?.fragment
    }

    /// Fragment `fragmentIndex` of `bytes` as a writer makes it.
    func fragment(_ fragmentIndex: Int, of bytes: [UInt8]) throws -> [UInt8] {
        try store.codecs.code(for: layout.volume).encode(bytes)[fragmentIndex]
    }

    /// The reports so far that name `fragmentIndex`.
    func reports(naming fragmentIndex: Int) -> [FragmentDamage] {
        reporter.reports.withLock { $0.filter { $0.fragmentIndices.contains(fragmentIndex) } }
    }

    /// Waits (up to 10 s) until `condition` holds; whether it did.
    func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        for _ in 0..<200 {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Bits flipped between the encoder and the disk, or between the disk and the decoder, never
/// turn into wrong bytes: the end-to-end CRC32C catches them, on the daemon for writes, on the
/// client for reads, and the fragment is read around and reported for repair.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EndToEndChecksumTests {
    @Test func aBitFlippedInReadRepliesOfOneFragmentIsReadAroundAndReported() async throws {
        try await ChecksumTestGroup.with { group in
            let bytes = patternBytes(count: ChecksumTestGroup.blockSize, seed: 21)
            let version = try await group.store.writeBlock(layout: group.layout, index: 0, bytes: bytes,
                                                           effectiveLength: bytes.count, after: 0)
            #expect(group.reporter.reports.withLock { $0.isEmpty })

            // Fragment 1 is a data line: without the check its damaged bytes would be decoded.
            group.transport.faults.withLock { $0.reads = [1] }
            let read = try await group.store.readBlock(layout: group.layout, index: 0)
            #expect(read.bytes == bytes, "the block is decoded from the other fragments")
            #expect(read.version == version)
            #expect(group.transport.faults.withLock { $0.flippedReads } >= 1, "a reply was damaged")
            let reported = await group.eventually { !group.reports(naming: 1).isEmpty }
            #expect(reported, "fragment 1 is reported for repair")
            #expect(group.reports(naming: 1).allSatisfy { $0.blockIndex == 0 && $0.version == version && $0.reason.contains("corrupt") })
            #expect(group.reporter.reports.withLock { $0.allSatisfy { $0.fragmentIndices == [1] } }, "and only fragment 1")

            // The daemon's copy was never damaged: it still holds the fragment as written.
            let stored = try await group.stored(fragmentIndex: 1, block: 0)
            #expect(stored?.bytesArray == (try group.fragment(1, of: bytes)))

            // A small read from the data fragments: the damaged range is refused too, and the
            // whole-block read it falls back to reads around it.
            let range = 100..<200 + ChecksumTestGroup.blockSize / 4
            #expect(await group.store.readRange(layout: group.layout, index: 0, range: range) == nil,
                    "a range that fails its checksum is never used")
            group.transport.faults.withLock { $0.reads = [] }
            let clean = await group.store.readRange(layout: group.layout, index: 0, range: range)
            #expect(clean?.bytes == Array(bytes[range]), "with the link fixed the same range reads from the data fragments")
        }
    }

    @Test func aBitFlippedInAWriteAfterItsChecksumIsRefusedByTheDaemonAndTheDataStaysRight() async throws {
        try await ChecksumTestGroup.with { group in
            let first = patternBytes(count: ChecksumTestGroup.blockSize, seed: 31)
            let firstVersion = try await group.store.writeBlock(layout: group.layout, index: 3, bytes: first,
                                                                effectiveLength: first.count, after: 0)
            // The overwrite's fragment 2 leaves with a bit flipped after its CRC was computed.
            group.transport.faults.withLock { $0.writes = [2] }
            let second = patternBytes(count: ChecksumTestGroup.blockSize, seed: 32)
            let secondVersion = try await group.store.writeBlock(layout: group.layout, index: 3, bytes: second,
                                                                 effectiveLength: second.count, after: firstVersion)
            #expect(group.transport.faults.withLock { $0.flippedWrites } == 1)
            group.transport.faults.withLock { $0.writes = [] }

            // Node 2 refused it whole: its slot still holds the first version, intact.
            let stored = try await group.stored(fragmentIndex: 2, block: 3)
            #expect(stored?.version == firstVersion)
            #expect(stored?.bytesArray == (try group.fragment(2, of: first)))
            // The write was acknowledged by the other five and the refusal reported for repair.
            let reports = group.reports(naming: 2)
            #expect(reports.count == 1)
            #expect(reports.first?.version == secondVersion)
            #expect(reports.first?.reason.contains("checksum mismatch") == true, "\(reports)")

            // The file holds the second version, read back right; the read rewrites fragment 2.
            let read = try await group.store.readBlock(layout: group.layout, index: 3)
            #expect(read.bytes == second)
            #expect(read.version == secondVersion)
            let repaired = try await group.eventually {
                try await group.stored(fragmentIndex: 2, block: 3)?.bytesArray == (try group.fragment(2, of: second))
            }
            #expect(repaired, "the read repaired the fragment the write missed")
        }
    }

    @Test func aBitFlippedInAStoredFragmentFileIsReadAroundReportedAndRewritten() async throws {
        try await ChecksumTestGroup.with { group in
            let bytes = patternBytes(count: 2 * ChecksumTestGroup.blockSize, seed: 41)
            for block in 0..<2 {
                let slice = Array(bytes[block * ChecksumTestGroup.blockSize..<(block + 1) * ChecksumTestGroup.blockSize])
                try await group.store.writeBlock(layout: group.layout, index: UInt64(block), bytes: slice,
                                                 effectiveLength: slice.count, after: 0)
            }
            // One bit of block 1's fragment 0 on node 0's disk.
            let code = try group.store.codecs.code(for: group.layout.volume)
            let slotSize = FragmentFileHeader(group: ChecksumTestGroup.group, inode: group.layout.inode, fragmentIndex: 0,
                                              fragmentCapacity: UInt32(code.fragmentSize(at: 0))).slotSize
            let path = "\(group.nodes[0].directory)/g\(ChecksumTestGroup.group)/\(group.layout.inode).0"
            try flipBits(in: path, at: FragmentFileHeader.length + slotSize + SlotHeader.length + 1234, mask: 0x02)
            #expect(try await group.stored(fragmentIndex: 0, block: 1) == .corrupt)

            var read: [UInt8] = []
            for block in 0..<2 { read += try await group.store.readBlock(layout: group.layout, index: UInt64(block)).bytes }
            #expect(read == bytes)
            let reported = await group.eventually { !group.reports(naming: 0).isEmpty }
            #expect(reported, "the rotten fragment is reported for repair")
            #expect(group.reports(naming: 0).allSatisfy { $0.blockIndex == 1 })
            let rewritten = try await group.eventually {
                try await group.stored(fragmentIndex: 0, block: 1)?.bytesArray
                    == (try group.fragment(0, of: Array(bytes[ChecksumTestGroup.blockSize...])))
            }
            #expect(rewritten, "the read rewrote the fragment")
        }
    }
}
