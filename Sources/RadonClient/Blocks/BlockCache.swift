import Metrics
import Synchronization

/// A small cache of decoded blocks, shared by every open file of one client.
///
/// Sequential readers hit it through read-ahead, and small reads of one block (4 KiB reads of a
/// 1 MiB block) decode the block once instead of 256 times. Entries are whole blocks as the
/// codec decoded them; a write replaces its block.
///
/// Invariant: the blocks of an inode are served only at the inode generation recorded with them
/// (`validate`): an open that finds another generation at the service (another client changed
/// the file) drops them all, and a change of this client's own moves the generation on only
/// when nothing else changed the file in between (`advance`). So a cached block outlives a
/// close and a later open only while the file is provably unchanged.
public final class BlockCache: Sendable {
    public struct Key: Hashable, Sendable {
        public var inode: UInt64
        public var blockIndex: UInt64
    }

    private struct Entry {
        var bytes: [UInt8]
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var byteCount = 0
        var clock: UInt64 = 0
        /// The generation each inode's cached blocks belong to.
        var generations: [UInt64: UInt64] = [:]
    }

    /// Generations remembered at most; past that, those of inodes with no block cached go.
    static let maximumGenerations = 1 << 14

    /// Bytes kept at most.
    public let capacity: Int
    /// The cache contents; guarded by the mutex.
    private let state = Mutex(State())

    private let hits = Counter(label: "radonfs_client_block_cache_requests_total", dimensions: [("result", "hit")])
    private let misses = Counter(label: "radonfs_client_block_cache_requests_total", dimensions: [("result", "miss")])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public func block(inode: UInt64, index: UInt64) -> [UInt8]? {
        let bytes: [UInt8]? = state.withLock { state in
            let key = Key(inode: inode, blockIndex: index)
            guard var entry = state.entries[key] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.bytes
        }
        (bytes == nil ? misses : hits).increment()
        return bytes
    }

    public func store(_ bytes: [UInt8], inode: UInt64, index: UInt64) {
        guard bytes.count <= capacity else { return }
        state.withLock { state in
            let key = Key(inode: inode, blockIndex: index)
            state.clock += 1
            if let old = state.entries.updateValue(Entry(bytes: bytes, lastUse: state.clock), forKey: key) {
                state.byteCount -= old.bytes.count
            }
            state.byteCount += bytes.count
            while state.byteCount > capacity, let victim = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries[victim.key] = nil
                state.byteCount -= victim.value.bytes.count
            }
        }
    }

    public func remove(inode: UInt64, index: UInt64) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: Key(inode: inode, blockIndex: index)) {
                state.byteCount -= old.bytes.count
            }
        }
    }

    /// The blocks of `inode` are kept if they belong to `generation`, else dropped; from now on
    /// they belong to `generation`.
    public func validate(inode: UInt64, generation: UInt64) {
        state.withLock { state in
            if state.generations[inode] != generation {
                Self.dropBlocks(of: inode, from: 0, in: &state)
                state.generations[inode] = generation
            }
            if state.generations.count > Self.maximumGenerations {
                let cached = Set(state.entries.keys.map(\.inode))
                state.generations = state.generations.filter { cached.contains($0.key) || $0.key == inode }
            }
        }
    }

    /// This client changed `inode`, taking it from generation `previous` to `current`: its blocks
    /// stay valid (they hold the change) only if they belonged to `previous`.
    public func advance(inode: UInt64, from previous: UInt64?, to current: UInt64) {
        state.withLock { state in
            if previous == nil || state.generations[inode] != previous { Self.dropBlocks(of: inode, from: 0, in: &state) }
            state.generations[inode] = current
        }
    }

    private static func dropBlocks(of inode: UInt64, from firstIndex: UInt64, in state: inout State) {
        for key in state.entries.keys where key.inode == inode && key.blockIndex >= firstIndex {
            state.byteCount -= state.entries.removeValue(forKey: key)?.bytes.count ?? 0
        }
    }

    /// Drops every block of `inode` (or only those from `firstIndex` on).
    public func removeAll(inode: UInt64, from firstIndex: UInt64 = 0) {
        state.withLock { state in Self.dropBlocks(of: inode, from: firstIndex, in: &state) }
    }
}
