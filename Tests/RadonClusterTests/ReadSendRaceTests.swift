import Foundation
@testable import RadonClient
import RadonTestSupport
import Testing

/// One client, two handles on one file: a fetch of a block from the nodes that overlaps a send
/// of the same block (forced with `HeldReadTransport`, real daemons behind it). The reader must
/// never see the block without a write that returned before its read began, never cache the
/// old fetch as current, and two sends of the block must never drop each other's bytes.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ReadSendRaceTests {
    static let blockSize = 64 << 10

    /// What each race test works with: a one-block file written by another client (so
    /// nothing of it is in the test client's cache), and two handles on it in the test client.
    struct Race {
        var client: RadonFileSystemClient
        var transport: HeldReadTransport
        var inode: UInt64
        var old: [UInt8]
        var first: RadonClient.FileHandle
        var second: RadonClient.FileHandle
    }

    /// Runs `body` on a fresh `Race`; `body` returns the bytes the file must hold at the end,
    /// which a third client then checks after both handles are released.
    static func race(seed: UInt64, _ body: (Race) async throws -> [UInt8]) async throws {
        try await TestCluster.with(blockSize: blockSize) { cluster in
            let writer = try await cluster.client()
            let old = patternBytes(count: blockSize, seed: seed)
            let inode = try await writer.writeFile(parent: 1, name: "race-\(seed)", bytes: old).inode
            await writer.close()
            let (client, transport) = try await cluster.clientWithHeldReads()
            let race = Race(client: client, transport: transport, inode: inode, old: old,
                            first: try await client.open(inode, flags: readWrite, context: .root),
                            second: try await client.open(inode, flags: readWrite, context: .root))
            let expected = try await body(race)
            try await client.release(race.first)
            try await client.release(race.second)
            await client.close()
            let other = try await cluster.client()
            let finalMatches = same(try await other.readFile(inode), expected)
            #expect(finalMatches, "the file as another client reads it afterwards")
            await other.close()
        }
    }

    static let readWrite = OpenFlags(read: true, write: true)

    /// Equality as a plain Bool, so a failure does not print 64 KiB of numbers.
    static func same(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool { lhs == rhs }

    /// A fetch that started while the block was dirty and ends after the block was sent must
    /// not be cached over the sent bytes (nor returned without the write).
    @Test func fetchOverlappingASendIsNotCachedAsCurrent() async throws {
        try await Self.race(seed: 1) { race in
            var expected = race.old
            expected.replaceSubrange(100..<110, with: repeatElement(0xAB, count: 10))
            _ = try await race.client.write(race.first, offset: 100, bytes: Array(expected[100..<110]))

            // The reader's fetch of block 0 reads the old bytes and is held there.
            race.transport.hold(inode: race.inode, block: 0, count: 4)
            let firstRead = Task { try await race.client.read(race.second, offset: 0, count: Self.blockSize) }
            try await race.transport.waitUntilCaught(4)
            // Meanwhile the writer flushes: read-modify-write, send, durable.
            try await race.client.flush(race.first)
            race.transport.release()
            let firstReadMatches = Self.same(try await firstRead.value, expected)
            #expect(firstReadMatches, "a read that began after the write returned must see it")
            let secondReadMatches = Self.same(try await race.client.read(race.second, offset: 0, count: Self.blockSize), expected)
            #expect(secondReadMatches, "the held (old) fetch must not be cached as the block's contents")
            return expected
        }
    }

    /// While a send reads the old contents for its read-modify-write, the block must stay in
    /// sight: a read through another handle sees the write that is being sent.
    @Test func blockBeingSentStaysVisibleToReaders() async throws {
        try await Self.race(seed: 2) { race in
            var expected = race.old
            expected.replaceSubrange(100..<110, with: repeatElement(0xCD, count: 10))
            _ = try await race.client.write(race.first, offset: 100, bytes: Array(expected[100..<110]))

            // The flush's read of the old contents is held.
            race.transport.hold(inode: race.inode, block: 0, count: 4)
            let flush = Task { try await race.client.flush(race.first) }
            try await race.transport.waitUntilCaught(4)
            let duringSendMatches = Self.same(try await race.client.read(race.second, offset: 0, count: Self.blockSize), expected)
            #expect(duringSendMatches, "the written bytes must stay visible while their block is being sent")
            race.transport.release()
            try await flush.value
            let afterSendMatches = Self.same(try await race.client.read(race.second, offset: 0, count: Self.blockSize), expected)
            #expect(afterSendMatches)
            return expected
        }
    }

    /// Two partial writes of one block, the first's send waiting on its read-modify-write while
    /// the second is written and flushed: both must be in the block afterwards.
    @Test func overlappingSendsOfOneBlockKeepBothWrites() async throws {
        try await Self.race(seed: 3) { race in
            var expected = race.old
            expected.replaceSubrange(100..<110, with: repeatElement(0x11, count: 10))
            expected.replaceSubrange(5000..<5010, with: repeatElement(0x22, count: 10))

            _ = try await race.client.write(race.first, offset: 100, bytes: Array(expected[100..<110]))
            race.transport.hold(inode: race.inode, block: 0, count: 4)
            let firstFlush = Task { try await race.client.flush(race.first) }
            try await race.transport.waitUntilCaught(4)
            _ = try await race.client.write(race.second, offset: 5000, bytes: Array(expected[5000..<5010]))
            let secondFlush = Task { try await race.client.flush(race.second) }
            // Give the second flush time to run as far as it can while the first is held.
            try await Task.sleep(for: .milliseconds(500))
            race.transport.release()
            try await firstFlush.value
            try await secondFlush.value
            return expected
        }
    }

    /// Without forcing anything: many rounds of a partial write through one handle, then a
    /// flush and a read through the other at once. The read began after the write returned, so
    /// it must see it, whatever the interleaving; and so must the read after the flush.
    @Test func concurrentFlushesAndReadsSeeEveryWrite() async throws {
        try await Self.race(seed: 4) { race in
            var model = race.old
            var generator = SystemRandomNumberGenerator()
            var wrongDuring = 0
            var wrongAfter = 0
            for round in 0..<150 {
                let count = Int.random(in: 1...8192, using: &generator)
                let offset = Int.random(in: 0...(Self.blockSize - count), using: &generator)
                let patch = patternBytes(count: count, seed: 1000 + UInt64(round))
                _ = try await race.client.write(race.first, offset: UInt64(offset), bytes: patch)
                model.replaceSubrange(offset..<offset + count, with: patch)
                async let flushed: Void = race.client.flush(race.first)
                async let during = race.client.read(race.second, offset: 0, count: Self.blockSize)
                if try await during != model { wrongDuring += 1 }
                try await flushed
                if try await race.client.read(race.second, offset: 0, count: Self.blockSize) != model { wrongAfter += 1 }
            }
            #expect(wrongDuring == 0, "reads during a flush that missed a write made before them")
            #expect(wrongAfter == 0, "reads after a flush that missed a write")
            return model
        }
    }
}
