import NIOCore
import Logging
@testable import RadonClient
import Synchronization
import RadonTestSupport
import Testing

/// Fragment slots in memory, with nodes that can be "down" or have rotten slots: the block
/// store's encode / fan-out / vote / decode / repair logic without daemons.
final class MemoryTransport: FragmentTransport {
    struct Slot { var version: UInt64; var effectiveLength: Int; var bytes: [UInt8]; var checksum: UInt32; var corrupt = false }
    struct Key: Hashable { var node: Int; var inode: UInt64; var block: UInt64 }
    /// Slots, their previous copies and the set of down nodes; guarded by the mutex.
    let state = Mutex<(slots: [Key: Slot], previous: [Key: Slot], down: Set<Int>)>(([:], [:], []))

    func node(_ address: WireAddress) -> Int { address.port }

    /// The storage daemon's rules (`FragmentStore.write`): never back to an older version; an
    /// overwrite with `keepPrevious` keeps the replaced version unless one is kept already.
    func write(to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
               blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
               deferSync: Bool) async throws -> FragmentWriteReceipt {
        FragmentWriteReceipt(keptPrevious: try state.withLock { state in
            guard !state.down.contains(node(address)) else { throw FileSystemError.io("node down") }
            let key = Key(node: node(address), inode: inode, block: blockIndex)
            if let old = state.slots[key], !old.corrupt, old.version > version { return state.previous[key] != nil }
            if keepPrevious, let old = state.slots[key], !old.corrupt, old.version < version, state.previous[key] == nil {
                state.previous[key] = old
            }
            state.slots[key] = Slot(version: version, effectiveLength: effectiveLength, bytes: Array(bytes.readableBytesView), checksum: checksum)
            return state.previous[key] != nil
        })
    }

    /// Slots in memory are as durable as they get: writes never defer, so nothing is synced.
    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64 { 1 }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        answer(in: \.slots, address: address, inode: inode, blockIndex: blockIndex)
    }

    func readPrevious(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        answer(in: \.previous, address: address, inode: inode, blockIndex: blockIndex)
    }

    private func answer(in slots: KeyPath<(slots: [Key: Slot], previous: [Key: Slot], down: Set<Int>), [Key: Slot]>,
                        address: WireAddress, inode: UInt64, blockIndex: UInt64) -> FragmentAnswer {
        state.withLock { state in
            guard !state.down.contains(node(address)) else { return .failed("node down") }
            guard let slot = state[keyPath: slots][Key(node: node(address), inode: inode, block: blockIndex)] else { return .missing }
            return slot.corrupt ? .corrupt : .present(version: slot.version, effectiveLength: slot.effectiveLength, bytes: ByteBuffer(bytes: slot.bytes),
                                                      checksum: slot.checksum)
        }
    }

    func dropPrevious(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64, version: UInt64) async throws {
        try state.withLock { state in
            guard !state.down.contains(node(address)) else { throw FileSystemError.io("node down") }
            let key = Key(node: node(address), inode: inode, block: blockIndex)
            if let kept = state.previous[key], kept.version < version { state.previous[key] = nil }
        }
    }

    func truncate(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockCount: UInt64) async throws {
        state.withLock { state in
            state.slots = state.slots.filter { !($0.key.node == node(address) && $0.key.inode == inode && $0.key.block >= blockCount) }
            state.previous = state.previous.filter { !($0.key.node == node(address) && $0.key.inode == inode && $0.key.block >= blockCount) }
        }
    }

    func delete(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws {
        try await truncate(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockCount: 0)
    }
}

struct BlockStoreTests {
    static let blockSize = 4096

    static func layout(codec: String = "mojette-systematic") -> FileLayout {
        let volume = VolumeSettings(id: 1, name: "v", codec: codec, k: 4, n: 6, blockSize: UInt32(blockSize), inlineThreshold: 0, groupCount: 1, isDefault: true)
        let members = (0..<6).map { NodeEndpoint(id: UInt32($0), address: WireAddress(host: "node", port: $0), state: .up) }
        return FileLayout(inode: 42, size: 0, isInline: false, volume: volume,
                          group: PlacementGroup(id: 1, volumeID: 1, index: 0, epoch: 1, members: (0..<6).map(UInt32.init)),
                          members: members, mapEpoch: 1)
    }

    func makeStore(_ transport: MemoryTransport) -> BlockStore {
        BlockStore(transport: transport, clock: VersionClock(), repairs: LoggingRepairReporter(logger: Logger(label: "test")),
                   logger: Logger(label: "test"), hedgeDelay: .milliseconds(50))
    }

    @Test(arguments: ["mojette-systematic", "mojette", "rs"])
    func survivesTwoLostNodesAndRefusesThree(codec: String) async throws {
        let transport = MemoryTransport()
        let store = makeStore(transport)
        let layout = Self.layout(codec: codec)
        let block = patternBytes(count: Self.blockSize, seed: 3)
        try await store.writeBlock(layout: layout, index: 0, bytes: block, effectiveLength: Self.blockSize, after: 0)
        transport.state.withLock { $0.down = [0, 3] }
        #expect(try await store.readBlock(layout: layout, index: 0).bytes == block)
        transport.state.withLock { $0.down = [0, 3, 5] }
        await #expect(throws: FileSystemError.self) { try await store.readBlock(layout: layout, index: 0) }
        transport.state.withLock { $0.down = [] }
        #expect(try await store.readBlock(layout: layout, index: 0).bytes == block)
        // A write reaching only 3 nodes is refused. The nodes it reached keep the old version
        // beside the new one, so afterwards the old block reads back whole.
        transport.state.withLock { $0.down = [0, 3, 5] }
        let newBlock = [UInt8](repeating: 1, count: Self.blockSize)
        await #expect(throws: FileSystemError.self) {
            try await store.writeBlock(layout: layout, index: 0, bytes: newBlock, effectiveLength: 10, after: 0)
        }
        transport.state.withLock { $0.down = [] }
        let afterFailure = try await store.readBlock(layout: layout, index: 0)
        #expect(afterFailure.bytes == block)
        #expect(afterFailure.newestVersionSeen > afterFailure.version, "a rewrite must outrank the failed version")
        // A successful overwrite drops the kept versions everywhere.
        try await store.writeBlock(layout: layout, index: 0, bytes: newBlock, effectiveLength: 10, after: afterFailure.newestVersionSeen)
        #expect(transport.state.withLock { $0.previous.isEmpty })
    }

    @Test func holeReadsAsZerosAndCorruptFragmentIsRepaired() async throws {
        let transport = MemoryTransport()
        let store = makeStore(transport)
        let layout = Self.layout()
        let hole = try await store.readBlock(layout: layout, index: 9)
        #expect(hole.version == 0 && hole.bytes == [UInt8](repeating: 0, count: Self.blockSize))

        let block = patternBytes(count: Self.blockSize, seed: 4)
        try await store.writeBlock(layout: layout, index: 1, bytes: block, effectiveLength: Self.blockSize, after: 0)
        let key = MemoryTransport.Key(node: 1, inode: 42, block: 1)
        let good = transport.state.withLock { $0.slots[key]!.bytes }
        transport.state.withLock { $0.slots[key]!.corrupt = true }
        #expect(try await store.readBlock(layout: layout, index: 1).bytes == block)
        var repaired = false
        for _ in 0..<100 where !repaired {
            try await Task.sleep(for: .milliseconds(10))
            repaired = transport.state.withLock { $0.slots[key].map { !$0.corrupt && $0.bytes == good } ?? false }
        }
        #expect(repaired)
    }

    @Test func newerVersionWinsOverAStaleNode() async throws {
        let transport = MemoryTransport()
        let store = makeStore(transport)
        let layout = Self.layout()
        let old = patternBytes(count: Self.blockSize, seed: 5)
        let new = patternBytes(count: Self.blockSize, seed: 6)
        try await store.writeBlock(layout: layout, index: 0, bytes: old, effectiveLength: Self.blockSize, after: 0)
        transport.state.withLock { $0.down = [2] }
        try await store.writeBlock(layout: layout, index: 0, bytes: new, effectiveLength: Self.blockSize, after: 0)
        transport.state.withLock { $0.down = [] }
        #expect(try await store.readBlock(layout: layout, index: 0).bytes == new)
    }
}
