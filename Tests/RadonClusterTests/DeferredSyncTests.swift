import Logging
import NIOCore
@testable import RadonClient
import RadonTestSupport
import Synchronization
import Testing

/// Nodes that leave the fsync of new fragments for later (`deferSync`), as storage daemons do,
/// over `MemoryTransport`'s slots: each node answers under a host boot the test can change (a
/// reboot that took its page cache) and can refuse its syncs.
final class DeferringTransport: WrappingFragmentTransport {
    let base = MemoryTransport()
    var wrapped: any FragmentTransport { base }
    /// Per node: its current boot, whether its syncs fail, and the syncs it was asked for.
    let nodes = Mutex<(boots: [Int: UInt64], failingSyncs: Set<Int>, syncs: [Int: Int])>(([:], [], [:]))
    /// Nodes whose syncs never answer (a stopped daemon).
    let hangingSyncs = Mutex<Set<Int>>([])

    func boot(of node: Int) -> UInt64 { nodes.withLock { $0.boots[node] ?? 1 } }

    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt {
        // The daemon's rule: only a slot that held no version may wait for the sync.
        let fresh = base.state.withLock { $0.slots[MemoryTransport.Key(node: address.port, inode: inode, block: blockIndex)] == nil }
        var receipt = try await base.write(to: address, group: group, inode: inode, fragmentIndex: fragmentIndex, fragmentCapacity: fragmentCapacity,
                                           blockIndex: blockIndex, version: version, effectiveLength: effectiveLength, bytes: bytes,
                                           checksum: checksum, keepPrevious: keepPrevious, deferSync: deferSync)
        if deferSync, fresh { receipt.deferredUnderBoot = boot(of: address.port) }
        return receipt
    }

    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64 {
        if hangingSyncs.withLock({ $0.contains(address.port) }) {
            try await Task.sleep(for: .seconds(600))
        }
        return try nodes.withLock { nodes in
            nodes.syncs[address.port, default: 0] += 1
            if nodes.failingSyncs.contains(address.port) { throw FileSystemError.io("disk gone") }
            return nodes.boots[address.port] ?? 1
        }
    }
}

/// `BlockStore.syncDeferred`: what a flush does with the writes nodes left unsynced.
struct DeferredSyncTests {
    static let blockSize = BlockStoreTests.blockSize

    /// What the tests of a sync work with: a block store over deferring nodes, and block
    /// `index` written there and not synced yet.
    struct Written {
        var transport = DeferringTransport()
        var reporter = RecordingRepairs()
        var store: BlockStore
        var syncs = DeferredSyncs()
        let layout = BlockStoreTests.layout()

        init(block index: UInt64) async throws {
            store = BlockStore(transport: transport, clock: VersionClock(), repairs: reporter, logger: Logger(label: "test"),
                               hedgeDelay: .milliseconds(50))
            try await write(block: index)
        }

        func write(block index: UInt64) async throws {
            try await store.writeBlock(layout: layout, index: index, bytes: patternBytes(count: DeferredSyncTests.blockSize, seed: index),
                                       effectiveLength: DeferredSyncTests.blockSize, after: 0, deferredSyncs: syncs)
        }
    }

    @Test func newBlocksAreSyncedOnceOnEveryNodeAndOverwritesAreNotDeferred() async throws {
        let written = try await Written(block: 0)
        let (transport, store, syncs, layout) = (written.transport, written.store, written.syncs, written.layout)
        for index in 1..<3 as Range<UInt64> { try await written.write(block: index) }
        #expect(!syncs.isEmpty)
        try await store.syncDeferred(syncs)
        // One sync per fragment file (per node here: one inode), whatever the number of blocks.
        #expect(transport.nodes.withLock { $0.syncs } == Dictionary(uniqueKeysWithValues: (0..<6).map { ($0, 1) }))
        #expect(syncs.isEmpty)
        // Nothing left: a second flush syncs nothing.
        try await store.syncDeferred(syncs)
        #expect(transport.nodes.withLock { $0.syncs.values.reduce(0, +) } == 6)
        // An overwrite replaces a version: the node fsyncs it as it lands, nothing is deferred.
        try await store.writeBlock(layout: layout, index: 1, bytes: [UInt8](repeating: 7, count: Self.blockSize),
                                   effectiveLength: Self.blockSize, after: 0, deferredSyncs: syncs)
        #expect(syncs.isEmpty)
        #expect(try await store.readBlock(layout: layout, index: 1).bytes == [UInt8](repeating: 7, count: Self.blockSize))
        #expect(written.reporter.damage.isEmpty)
    }

    @Test func aRebootedNodeIsReportedAndTheFlushHoldsWhileKFragmentsAreDurable() async throws {
        let written = try await Written(block: 0)
        // Node 2's host rebooted before the sync; node 4's sync fails: 4 of 6 fragments are durable.
        written.transport.nodes.withLock { nodes in
            nodes.boots[2] = 2
            nodes.failingSyncs = [4]
        }
        try await written.store.syncDeferred(written.syncs)
        let reported = written.reporter.damage
        #expect(reported.count == 1)
        #expect(reported.first?.fragmentIndices == [2, 4])
        #expect(reported.first?.blockIndex == 0)
        #expect(reported.first?.reason.contains("restarted its host") == true)
    }

    @Test func aSilentNodeIsGivenUpOnAfterTheGraceAndSkippedThen() async throws {
        let written = try await Written(block: 2)
        written.transport.hangingSyncs.withLock { $0 = [3] }
        let started = ContinuousClock.now
        try await written.store.syncDeferred(written.syncs)
        let waited = ContinuousClock.now - started
        #expect(waited >= .seconds(1) && waited < .seconds(10), "one straggler grace, not the transport's timeout")
        #expect(written.reporter.damage.map(\.fragmentIndices) == [[3]])
        #expect(written.reporter.damage.first?.reason.contains("did not answer its sync") == true)
        // Marked hung: the next write skips it (reported again) and the next sync does not ask it.
        try await written.write(block: 3)
        let again = ContinuousClock.now
        try await written.store.syncDeferred(written.syncs)
        #expect(ContinuousClock.now - again < .seconds(1))
    }

    @Test func anOverwriteFsyncdSinceMakesLostSyncsOfOlderVersionsHarmless() async throws {
        let written = try await Written(block: 4)
        // Overwritten before the flush: every node fsyncs the new version as it lands.
        try await written.store.writeBlock(layout: written.layout, index: 4, bytes: [UInt8](repeating: 3, count: Self.blockSize),
                                           effectiveLength: Self.blockSize, after: 0, deferredSyncs: written.syncs)
        written.transport.nodes.withLock { nodes in
            for node in [0, 1, 3] { nodes.boots[node] = 7 }
        }
        try await written.store.syncDeferred(written.syncs)
        #expect(written.reporter.damage.isEmpty)
    }

    @Test func fewerThanKDurableFragmentsFailTheFlush() async throws {
        let written = try await Written(block: 5)
        written.transport.nodes.withLock { nodes in
            for node in [0, 1, 3] { nodes.boots[node] = 7 }
        }
        await #expect(throws: FileSystemError.self) { try await written.store.syncDeferred(written.syncs) }
        #expect(written.reporter.damage.first?.fragmentIndices == [0, 1, 3])
        // Reported once: the next flush has nothing left to sync and does not fail again.
        try await written.store.syncDeferred(written.syncs)
    }
}

/// Keeps every damage report.
final class RecordingRepairs: RepairReporter {
    private let reports = Mutex<[FragmentDamage]>([])
    var damage: [FragmentDamage] { reports.withLock { $0 } }
    func fragmentsNeedRepair(_ damage: FragmentDamage) async { reports.withLock { $0.append(damage) } }
}
