@testable import RadonClient
import RadonTestSupport
import Testing

/// The size a client reports for a file it has open: attributes fetched from the service
/// before a flush of this client ended (a getattr racing the flush) must not show the size
/// from before the flush once nothing is left unflushed.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LocalSizeTests {
    @Test(arguments: [100, 200_000])
    func attributesFetchedBeforeAFlushShowTheFlushedSize(count: Int) async throws {
        try await TestCluster.with(blockSize: 64 << 10) { cluster in
            let client = try await cluster.client()
            let createdFile = try await client.create(
                parent: 1, name: "grows", permissions: 0o644, flags: OpenFlags(read: true, write: true), exclusive: true, context: .root)
            let (created, handle) = (createdFile.attributes, createdFile.handle)
            let (meta, pool) = try await cluster.meta()
            // What a getattr that started before the flush got from the service.
            let before = try await meta.attributes(of: created.inode)
            _ = try await client.write(handle, offset: 0, bytes: patternBytes(count: count, seed: 3))
            #expect(await client.withLocalSize(before).size == UInt64(count), "unflushed writes count")
            try await client.flush(handle)
            #expect(await client.withLocalSize(before).size == UInt64(count), "attributes older than the flush")
            let after = try await meta.attributes(of: created.inode)
            #expect(await client.withLocalSize(after).size == UInt64(count), "attributes newer than the flush")
            try await client.release(handle)
            await client.close()
            await pool.closeAll()
        }
    }
}
