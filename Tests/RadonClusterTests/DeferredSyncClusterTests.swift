import Foundation
import Logging
import NIOCore
@testable import RadonClient
import RadonTestSupport
import Synchronization
import Testing

/// Fragment writes and syncs as a client core sends them to real storage daemons, counted.
final class SyncCountingTransport: WrappingFragmentTransport {
    let base: any FragmentTransport
    var wrapped: any FragmentTransport { base }
    /// Fragment files (node port, fragment index) written with a deferred fsync, and synced,
    /// in order; what was published meanwhile is the test's to check.
    let log = Mutex<(deferred: [Int: Int], synced: [Int: Int], plainWrites: Int)>(([:], [:], 0))

    init(base: any FragmentTransport) {
        self.base = base
    }

    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt {
        let receipt = try await base.write(to: address, group: group, inode: inode, fragmentIndex: fragmentIndex, fragmentCapacity: fragmentCapacity,
                                           blockIndex: blockIndex, version: version, effectiveLength: effectiveLength, bytes: bytes,
                                           checksum: checksum, keepPrevious: keepPrevious, deferSync: deferSync)
        log.withLock { log in
            if receipt.deferredUnderBoot != nil { log.deferred[address.port, default: 0] += 1 } else { log.plainWrites += 1 }
        }
        return receipt
    }

    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64 {
        let boot = try await base.sync(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex)
        log.withLock { $0.synced[address.port, default: 0] += 1 }
        return boot
    }
}

/// A client core's writes of new data on real daemons: left unsynced by the nodes while the
/// file is open, synced on every node at close, before the size is published.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DeferredSyncClusterTests {
    static let blockSize = 64 << 10

    @Test func newDataIsSyncedAtCloseOnEveryNodeAndOverwritesAreNot() async throws {
        try await TestCluster.with(blockSize: Self.blockSize) { cluster in
            var made: SyncCountingTransport?
            let client = try cluster.coreClient { address, pool, logger in
                let counting = SyncCountingTransport(base: StorageFragmentTransport(pool: pool))
                made = counting
                return RadonFileSystemClient(metaAddresses: [address], pool: pool, repairs: nil, logger: logger, transport: counting)
            }
            let transport = try #require(made)
            let bytes = patternBytes(count: 8 * Self.blockSize + 123, seed: 21)
            let created = try await client.create(parent: 1, name: "deferred", permissions: 0o644,
                                                  flags: OpenFlags(read: true, write: true), exclusive: true, context: .root)
            _ = try await client.write(created.handle, offset: 0, bytes: bytes)
            // Whole blocks go out as they fill, while the file is open: the nodes deferred every
            // fsync, and nothing is synced yet.
            for _ in 0..<200 where transport.log.withLock({ $0.deferred.values.reduce(0, +) }) < 6 * 8 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let whileOpen = transport.log.withLock { $0 }
            #expect(whileOpen.deferred.count == 6, "every node took new fragments without an fsync")
            #expect(whileOpen.deferred.values.allSatisfy { $0 >= 8 })
            #expect(whileOpen.synced.isEmpty)
            // Close syncs each node's fragment file once, and only then is the size published:
            // another client reads the whole file.
            try await client.release(created.handle)
            let afterClose = transport.log.withLock { $0 }
            #expect(afterClose.synced == Dictionary(uniqueKeysWithValues: afterClose.deferred.keys.map { ($0, 1) }))
            let reader = try await cluster.client()
            #expect(try await reader.readFile(created.attributes.inode) == bytes)
            // An overwrite replaces stored versions: the nodes fsync it as it lands.
            let handle = try await client.open(created.attributes.inode, flags: OpenFlags(read: true, write: true), context: .root)
            _ = try await client.write(handle, offset: 0, bytes: [UInt8](repeating: 9, count: Self.blockSize))
            try await client.release(handle)
            let afterOverwrite = transport.log.withLock { $0 }
            #expect(afterOverwrite.deferred == afterClose.deferred)
            #expect(afterOverwrite.synced == afterClose.synced)
            #expect(afterOverwrite.plainWrites >= 5)
            await reader.close()
            await client.close()
        }
    }
}
