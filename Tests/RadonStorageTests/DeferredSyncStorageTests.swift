import Foundation
import NIOCore
@testable import RadonStorage
import RadonWire
import Testing

/// A storage daemon's deferred fsyncs (`WriteFragmentsRequest.deferSync`, `syncFile`): only a
/// write into a slot that held no version may wait for the sync, and every answer names the
/// host boot.
@Suite struct DeferredSyncStorageTests {
    static let capacity: UInt32 = 16 << 10

    func slot(_ block: UInt64, version: UInt64) -> FragmentSlotWrite {
        FragmentSlotWrite(blockIndex: block, version: version, effectiveLength: Self.capacity,
                          bytes: fragmentBytes(block: block, version: version, count: Int(Self.capacity)))
    }

    func write(_ node: TestStorageNode, _ block: UInt64, version: UInt64, deferSync: Bool, keepPrevious: Bool = true) async throws -> WriteFragmentsReply {
        try await node.client.writeFragment(group: 3, inode: 11, fragmentIndex: 2, fragmentCapacity: Self.capacity,
                                            slot: slot(block, version: version), keepPrevious: keepPrevious, deferSync: deferSync)
    }

    @Test func onlyNewSlotsDeferTheirFsync() async throws {
        try await withStorageNode { node in
            let boot = try #require(UInt64(try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
                .filter(\.isHexDigit).prefix(16), radix: 16))
            // A new file and a new slot: left to the sync, under this host's boot.
            let first = try await write(node, 0, version: 10, deferSync: true)
            #expect(first.syncDeferred)
            #expect(first.boot == boot)
            #expect(try await write(node, 1, version: 10, deferSync: true).syncDeferred)
            // An overwrite of a stored version is fsync'd before the reply, deferral asked or not.
            let overwrite = try await write(node, 0, version: 20, deferSync: true)
            #expect(!overwrite.syncDeferred)
            #expect(overwrite.blocksWithPrevious == [0])
            // So is one that keeps no previous copy (a repair's, a retry's).
            #expect(try await write(node, 1, version: 11, deferSync: true, keepPrevious: false).syncDeferred == false)
            // Without deferSync nothing is deferred, new slot or not.
            #expect(try await write(node, 2, version: 10, deferSync: false).syncDeferred == false)
            // The sync answers under the same boot; the data reads back either way.
            #expect(try await node.client.syncFile(group: 3, inode: 11, fragmentIndex: 2) == boot)
            let read = try await node.client.readFragments(group: 3, inode: 11, fragmentIndex: 2, blockIndices: [0, 1, 2])
            #expect(read.map { $0.fragment.bytesArray } == [fragmentBytes(block: 0, version: 20, count: Int(Self.capacity)),
                                                             fragmentBytes(block: 1, version: 11, count: Int(Self.capacity)),
                                                             fragmentBytes(block: 2, version: 10, count: Int(Self.capacity))])
            // A file this node never had (deleted since) has nothing to sync: no error.
            #expect(try await node.client.syncFile(group: 9, inode: 99, fragmentIndex: 0) == boot)
        }
    }

    @Test func aRestartedDaemonKeepsDeferredWritesAndItsBoot() async throws {
        let directory = temporaryDirectory("deferred-sync")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try await withStorageNode(directory: directory) { node in
            try await write(node, 4, version: 3, deferSync: true)
        }
        #expect(written.syncDeferred)
        // A daemon that stopped leaves its writes in the host's page cache: one started on the
        // same directory reads them, and syncs under the same boot.
        try await withStorageNode(directory: directory) { node in
            #expect(try await node.client.syncFile(group: 3, inode: 11, fragmentIndex: 2) == written.boot)
            let read = try await node.client.readFragments(group: 3, inode: 11, fragmentIndex: 2, blockIndices: [4])
            #expect(read.first?.fragment.bytesArray == fragmentBytes(block: 4, version: 3, count: Int(Self.capacity)))
        }
    }
}
