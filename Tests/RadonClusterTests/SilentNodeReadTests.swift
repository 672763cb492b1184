import Logging
@testable import RadonClient
import Synchronization
import RadonTestSupport
import Testing

/// A memory transport whose chosen node takes reads and never answers them (a storage host
/// whose link went down: no refusal, no reset), and counts the reads it swallowed.
final class SilentNodeTransport: WrappingFragmentTransport {
    let base: MemoryTransport
    var wrapped: any FragmentTransport { base }
    /// The silent node (nil: none), and the reads it swallowed; guarded by the mutex.
    private let state: Mutex<(silentNode: Int?, swallowed: Int)>

    init(base: MemoryTransport, silentNode: Int) {
        self.base = base
        state = Mutex((silentNode, 0))
    }

    var readsSwallowed: Int { state.withLock { $0.swallowed } }

    /// The link comes back: the node answers again.
    func heal() { state.withLock { $0.silentNode = nil } }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        let silent = state.withLock { state in
            guard state.silentNode == base.node(address) else { return false }
            state.swallowed += 1
            return true
        }
        guard silent else {
            return await base.read(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex)
        }
        // Silent until the reader gives up on it (cancels), as a cut link is until the
        // transport's timeout.
        try? await Task.sleep(for: .seconds(3600))
        return .failed("no answer")
    }
}

/// A node that falls silent costs a reader one hedge delay, not one per block: the read that
/// hedged around it remembers it as hung, and the next blocks ask it last.
struct SilentNodeReadTests {
    @Test func silentDataNodeIsHedgedOnceNotPerBlock() async throws {
        let memory = MemoryTransport()
        let writer = BlockStore(transport: memory, clock: VersionClock(), repairs: LoggingRepairReporter(logger: Logger(label: "test")),
                                logger: Logger(label: "test"), hedgeDelay: .milliseconds(50))
        let layout = BlockStoreTests.layout()
        let blocks = (0..<8).map { patternBytes(count: BlockStoreTests.blockSize, seed: 70 + UInt64($0)) }
        for (index, block) in blocks.enumerated() {
            try await writer.writeBlock(layout: layout, index: UInt64(index), bytes: block, effectiveLength: block.count, after: 0)
        }
        // Node 0 holds the first data fragment of every block, so each read asks it first.
        let transport = SilentNodeTransport(base: memory, silentNode: 0)
        let reader = BlockStore(transport: transport, clock: VersionClock(), repairs: LoggingRepairReporter(logger: Logger(label: "test")),
                                logger: Logger(label: "test"), hedgeDelay: .milliseconds(50))
        for (index, block) in blocks.enumerated() {
            let read = try await reader.readBlock(layout: layout, index: UInt64(index))
            #expect(read.bytes == block, "block \(index)")
        }
        #expect(transport.readsSwallowed == 1, "the silent node was asked \(transport.readsSwallowed) times for 8 blocks")
        #expect(reader.silentReadNodes.isHung(layout.members[0].address))
        // Writes still try it: a node slow to read is not one that cannot take a write.
        #expect(!reader.hungNodes.isHung(layout.members[0].address))
        // Its link back and two other nodes down, a read needs it: it answers and leaves the set.
        transport.heal()
        memory.state.withLock { $0.down = [1, 2] }
        #expect(try await reader.readBlock(layout: layout, index: 3).bytes == blocks[3])
        #expect(!reader.silentReadNodes.isHung(layout.members[0].address))
    }

    /// A read that needed no hedge marks nobody, however slow the nodes it did not wait for.
    @Test func readWithoutHedgeMarksNobody() async throws {
        let memory = MemoryTransport()
        let store = BlockStore(transport: memory, clock: VersionClock(), repairs: LoggingRepairReporter(logger: Logger(label: "test")),
                               logger: Logger(label: "test"), hedgeDelay: .milliseconds(50))
        let layout = BlockStoreTests.layout()
        let block = patternBytes(count: BlockStoreTests.blockSize, seed: 80)
        try await store.writeBlock(layout: layout, index: 0, bytes: block, effectiveLength: block.count, after: 0)
        #expect(try await store.readBlock(layout: layout, index: 0).bytes == block)
        #expect(layout.members.allSatisfy { !store.silentReadNodes.isHung($0.address) && !store.hungNodes.isHung($0.address) })
    }
}
