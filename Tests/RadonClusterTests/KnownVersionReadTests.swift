@testable import RadonClient
import RadonTestSupport
import RadonWire
import Testing

/// Small reads of blocks whose current version the client knows ask only the data node that
/// holds the bytes; a data node that missed the latest write (down while it was acknowledged
/// by the others, and not repaired since) must be caught by its version and read around.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct KnownVersionReadTests {
    static let blockSize = 64 << 10

    @Test func dataNodeThatMissedAWriteIsNotTrustedForSmallReads() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            let blocks = 4
            let old = patternBytes(count: blocks * Self.blockSize, seed: 51)
            let writer = try await cluster.client()
            let inode = try await writer.writeFile(parent: 1, name: "known", bytes: old).inode
            await writer.close()

            // A client that reports missed fragments to nobody, so nothing repairs the node
            // that misses the overwrite before the reads below.
            let client = try cluster.coreClient {
                RadonFileSystemClient(metaAddresses: [$0], pool: $1, repairs: LoggingRepairReporter(logger: $2), logger: $2)
            }
            let handle = try await client.open(inode, flags: OpenFlags(read: true, write: true), context: .root)

            // The node holding line 0 of every block misses the overwrite.
            let dataNode = try await client.metaService.fileLayout(of: inode).members[0].address
            let storage = try cluster.state().storage
            let position = try #require(storage.firstIndex { WireAddress($0.address) == dataNode })
            try cluster.killStorage(position)
            let new = patternBytes(count: old.count, seed: 52)
            _ = try await client.write(handle, offset: 0, bytes: new)
            try await client.flush(handle)
            try cluster.restart()

            // Every 4 KiB of every line of every block, through the handle that wrote them
            // (it knows each block's version), backwards so no read looks sequential and none
            // finds its block cached: line 0 of each block lives on the restarted node, which
            // still holds the old bytes.
            client.cache.removeAll(inode: inode)
            var mismatches: [Int] = []
            for offset in stride(from: 0, to: new.count, by: 4096).reversed() {
                let bytes = try await client.read(handle, offset: UInt64(offset), count: 4096)
                if bytes != Array(new[offset..<offset + 4096]) { mismatches.append(offset) }
            }
            #expect(mismatches.isEmpty, "4 KiB reads returned bytes other than the acknowledged write at offsets \(mismatches)")
            try await client.release(handle)
            await client.close()
        }
    }
}
