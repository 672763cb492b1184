import Foundation
import Logging
@testable import RadonClient
import Synchronization
import RadonTestSupport
import Testing

/// The real storage transport, except that the next few reads of one chosen block are held
/// back after the nodes answered: their (by then old) answer arrives only when the test lets it
/// go. That forces, deterministically, a fetch of a block to overlap whatever the test does
/// meanwhile (a send of the same block), as a slow network would.
final class HeldReadTransport: WrappingFragmentTransport {
    let base: any FragmentTransport
    var wrapped: any FragmentTransport { base }

    struct Hold {
        var inode: UInt64
        var block: UInt64
        /// Reads still to catch.
        var remaining: Int
        /// Reads caught so far (answered by the node, waiting for `release`).
        var caught = 0
        var released = false
        /// The caught reads, resumed by `release`.
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    /// The current hold; guarded by the mutex.
    private let hold = Mutex<Hold?>(nil)

    init(base: any FragmentTransport) {
        self.base = base
    }

    /// Holds the next `count` reads of `block` of `inode` until `release()`.
    func hold(inode: UInt64, block: UInt64, count: Int) {
        hold.withLock { $0 = Hold(inode: inode, block: block, remaining: count) }
    }

    /// Waits until `count` reads are caught (or throws after 20 s).
    func waitUntilCaught(_ count: Int) async throws {
        for _ in 0..<2000 {
            if hold.withLock({ ($0?.caught ?? 0) >= count }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("only \(hold.withLock { $0?.caught ?? 0 }) of \(count) reads were caught")
    }

    /// Lets every caught read answer.
    func release() {
        let waiting = hold.withLock { hold -> [CheckedContinuation<Void, Never>] in
            hold?.released = true
            defer { hold?.waiting = [] }
            return hold?.waiting ?? []
        }
        for continuation in waiting { continuation.resume() }
    }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        let answer = await base.read(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex)
        let caught = hold.withLock { hold -> Bool in
            guard let current = hold, current.inode == inode, current.block == blockIndex, current.remaining > 0 else { return false }
            hold!.remaining -= 1
            hold!.caught += 1
            return true
        }
        guard caught else { return answer }
        // Not cancellable on purpose: a slow node answers late even when nobody waits anymore.
        await withCheckedContinuation { continuation in
            let resumeNow = hold.withLock { hold -> Bool in
                guard hold?.released == false else { return true }
                hold!.waiting.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return answer
    }
}

extension TestCluster {
    /// A client core on this cluster whose reads go through a `HeldReadTransport` (returned
    /// too); reads never hedge within the test's time, so a held read stays held.
    func clientWithHeldReads() async throws -> (RadonFileSystemClient, HeldReadTransport) {
        var made: HeldReadTransport?
        let client = try coreClient { address, pool, logger in
            let held = HeldReadTransport(base: StorageFragmentTransport(pool: pool))
            made = held
            return RadonFileSystemClient(metaAddresses: [address], pool: pool, repairs: nil, logger: logger,
                                         transport: held, hedgeDelay: .seconds(120))
        }
        let transport = try #require(made)
        return (client, transport)
    }
}
