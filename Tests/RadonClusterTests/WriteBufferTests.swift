import Logging
@testable import RadonClient
import RadonTestSupport
import RadonWire
import Testing

/// The write buffer: scattered small writes wait in memory as the pieces written (not whole
/// blocks), leave one read-modify-write per block, and never hold more than the client's
/// budget once a write returns.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct WriteBufferTests {
    static let blockSize = 64 << 10

    /// A position that jumps around with `step` (the same for the same step and seed, so a
    /// failure replays).
    static func scattered(_ step: Int, seed: UInt64) -> Int {
        var mixed = (UInt64(step) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ seed &* 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed >> 31
        return Int(mixed % (1 << 40))
    }

    // MARK: DirtyBlock alone

    /// Overlapping and touching writes in any order read back as a plain array written the
    /// same way would, sparse or whole, before and after the old contents are laid under.
    @Test(arguments: [1, 2, 3, 4])
    func scatteredWritesMatchAPlainArray(seed: UInt64) {
        let base = patternBytes(count: Self.blockSize, seed: seed + 100)
        var block = DirtyBlock(blockSize: Self.blockSize, baseIsKnown: false)
        var expected = base
        var zerosAround = [UInt8](repeating: 0, count: Self.blockSize)
        for step in 0..<40 {
            let count = 1 + Self.scattered(step, seed: seed) % 3000
            let offset = Self.scattered(step, seed: seed &+ 1) % (Self.blockSize - count + 1)
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ step) }
            block.write(bytes[...], at: offset)
            expected.replaceSubrange(offset..<offset + count, with: bytes)
            zerosAround.replaceSubrange(offset..<offset + count, with: bytes)
            #expect(block.footprint == block.writtenByteCount || block.footprint == Self.blockSize,
                    "a sparse block holds exactly the bytes written")
        }
        #expect(block.bytes == zerosAround, "written bytes over zeros before the base is known")
        block.merge(base: base)
        #expect(block.bytes == expected, "written bytes over the old contents")
        block.write([9, 9, 9][...], at: 10)
        expected.replaceSubrange(10..<13, with: [9, 9, 9])
        #expect(block.bytes == expected, "a write after the merge lands in the whole block")
    }

    /// A few scattered small writes cost their own size, not a block each; a dense writer
    /// turns the block whole.
    @Test func sparseBlocksHoldOnlyWhatWasWritten() {
        var block = DirtyBlock(blockSize: Self.blockSize, baseIsKnown: false)
        block.write([UInt8](repeating: 1, count: 2048)[...], at: 0)
        block.write([UInt8](repeating: 2, count: 2048)[...], at: 32 << 10)
        #expect(block.footprint == 4096)
        #expect(block.writtenByteCount == 4096)
        #expect(!block.isComplete(effectiveLength: Self.blockSize))
        block.write([UInt8](repeating: 3, count: Self.blockSize)[...], at: 0)
        #expect(block.footprint == Self.blockSize)
        #expect(block.isComplete(effectiveLength: Self.blockSize))
    }

    /// A write of the whole block (from a slice of a larger request) is the block, with the
    /// writes after it and the old contents laid under it as before.
    @Test func aWholeBlockWriteIsTheBlock() {
        let request = patternBytes(count: Self.blockSize + 300, seed: 7)
        var block = DirtyBlock(blockSize: Self.blockSize, baseIsKnown: false)
        block.write(request[300...], at: 0)
        var expected = Array(request[300...])
        #expect(block.bytes == expected)
        #expect(block.isComplete(effectiveLength: Self.blockSize))
        block.write([5, 5][...], at: 1000)
        expected.replaceSubrange(1000..<1002, with: [5, 5])
        #expect(block.bytes == expected)
        block.merge(base: patternBytes(count: Self.blockSize, seed: 8))
        #expect(block.bytes == expected, "every byte was written: nothing of the old contents shows")
    }

    // MARK: Through a real cluster

    /// A client whose write budget is `capacity` bytes.
    static func client(of cluster: LocalCluster, writeBufferCapacity capacity: Int,
                       writeBackDelay: Duration = .seconds(30)) throws -> RadonFileSystemClient {
        try cluster.coreClient {
            RadonFileSystemClient(metaAddresses: [$0], pool: $1, repairs: nil, logger: $2, writeBufferCapacity: capacity, writeBackDelay: writeBackDelay)
        }
    }

    /// Stores a file of `blockCount` blocks with one client, then opens it in a client whose
    /// write budget is `capacity` and lets `body` write through that handle (returning what the
    /// file must hold). After the last release the client must hold nothing, and another
    /// client must read back exactly what `body` returned.
    static func writeScattered(blockCount: Int, seed: UInt64, capacity: Int, writeBackDelay: Duration = .seconds(30),
                               _ body: (RadonFileSystemClient, RadonClient.FileHandle, [UInt8], LocalCluster) async throws -> [UInt8]) async throws {
        try await TestCluster.with(blockSize: blockSize) { cluster in
            let old = patternBytes(count: blockCount * blockSize, seed: seed)
            let writer = try await cluster.client()
            let inode = try await writer.writeFile(parent: 1, name: "scattered-\(seed)", bytes: old).inode
            await writer.close()

            let client = try client(of: cluster, writeBufferCapacity: capacity, writeBackDelay: writeBackDelay)
            let handle = try await client.open(inode, flags: OpenFlags(read: true, write: true), context: .root)
            let expected = try await body(client, handle, old, cluster)
            try await client.release(handle)
            #expect(client.writeBudget.heldBytes == 0, "a released file holds nothing")
            await client.close()

            let reader = try await cluster.client()
            let stored = try await reader.readFile(inode)
            #expect(stored == expected, "another client reads every write over the old contents")
            await reader.close()
        }
    }

    /// Random 4 KiB writes all over a 2 MiB file, through a client whose budget holds four
    /// blocks: after every write the client holds no more than its budget, and the writer
    /// reads its unsent writes over the stored bytes.
    @Test func scatteredWritesStayWithinTheBudgetAndAllLand() async throws {
        let capacity = 4 * Self.blockSize
        try await Self.writeScattered(blockCount: 32, seed: 7, capacity: capacity) { client, handle, old, _ in
            var expected = old
            var mostHeld = 0
            for step in 0..<600 {
                let offset = Self.scattered(step, seed: 11) % (old.count - 4096 + 1)
                let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: step | 1), count: 4096)
                _ = try await client.write(handle, offset: UInt64(offset), bytes: bytes)
                expected.replaceSubrange(offset..<offset + 4096, with: bytes)
                mostHeld = max(mostHeld, client.writeBudget.heldBytes)
                if step == 300 {
                    let readBack = try await client.read(handle, offset: 0, count: old.count)
                    #expect(readBack == expected, "the writer reads its own unsent writes")
                }
            }
            #expect(mostHeld <= capacity, "held \(mostHeld) bytes after a write returned, budget \(capacity)")
            #expect(mostHeld > capacity / 2, "the buffer was used (held \(mostHeld))")
            return expected
        }
    }

    /// With room to spare, scattered writes wait as their own bytes until the flush (no block
    /// is read or sent for them), and the flush sends them all.
    @Test func scatteredWritesWaitAsTheirOwnBytesUntilTheFlush() async throws {
        let blockCount = 16
        try await Self.writeScattered(blockCount: blockCount, seed: 8, capacity: 64 << 20) { client, handle, old, _ in
            var expected = old
            for block in 0..<blockCount {
                let offset = block * Self.blockSize + 1000
                let bytes = [UInt8](repeating: 0xC3, count: 4096)
                _ = try await client.write(handle, offset: UInt64(offset), bytes: bytes)
                expected.replaceSubrange(offset..<offset + 4096, with: bytes)
            }
            #expect(client.writeBudget.heldBytes == blockCount * 4096, "sparse blocks hold only the bytes written")
            try await client.flush(handle)
            #expect(client.writeBudget.heldBytes == 0, "a flush sends everything")
            return expected
        }
    }

    /// Writes left in a file nobody flushes reach the nodes after the write-back delay: another
    /// client then reads them (and the size they give the file) while the writer still holds
    /// the file open.
    @Test func unflushedWritesAreWrittenBackAfterTheDelay() async throws {
        try await Self.writeScattered(blockCount: 4, seed: 9, capacity: 64 << 20, writeBackDelay: .seconds(1)) { client, handle, old, cluster in
            var expected = old
            let bytes = [UInt8](repeating: 0x5A, count: 4096)
            _ = try await client.write(handle, offset: 5000, bytes: bytes)
            expected.replaceSubrange(5000..<5000 + 4096, with: bytes)
            let tail = [UInt8](repeating: 0x77, count: 3000)
            _ = try await client.write(handle, offset: UInt64(old.count), bytes: tail)
            expected += tail
            #expect(client.writeBudget.heldBytes > 0)
            // Another client reads the written-back bytes and the size they give the file
            // before any flush or close (a fresh client each time, so nothing is cached).
            try await poll("the write-back", timeout: .seconds(30)) {
                let reader = try await cluster.client()
                defer { Task { await reader.close() } }
                let inode = try await reader.lookup(parent: 1, name: "scattered-9", context: .root).inode
                return try await reader.readFile(inode) == expected
            }
            #expect(client.writeBudget.heldBytes == 0)
            return expected
        }
    }
}
