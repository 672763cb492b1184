import Synchronization

/// The fragment writes of one open file that storage nodes left unsynced (`deferSync`), until
/// the file is synced (`BlockStore.syncDeferred`) at its fsync or close.
///
/// Why: a node that fsyncs every fragment as it arrives makes a stream of new data wait for
/// the disk once per fragment, and its journal commit costs CPU (measured: a quarter of a 1
/// GiB write's CPU, and 30-45 % of its rate). POSIX makes written data durable at fsync, not
/// at write; the mount also syncs at close, so what a closed file holds is durable as before.
/// Nodes defer only writes into slots that held no version: an overwrite is fsync'd as it
/// lands, so a host crash never takes data that was durable before.
///
/// Invariants: every deferred write a block write counted since the last `takeAll` is listed
/// under its fragment file with the host boot it was answered under; `blocks[b]` holds the
/// newest version of block b written since, the number of nodes that acknowledged it (synced
/// or not), and how many of them it needs to stay decodable (k), unless that newest version
/// was fsync'd by every node that took it (then nothing). Guarded by the mutex.
final class DeferredSyncs: Sendable {
    /// One fragment file on one node.
    struct FragmentFile: Hashable, Sendable {
        var address: WireAddress
        var group: UInt32
        var inode: UInt64
        var fragmentIndex: Int
    }

    /// What a fragment file holds unsynced: the boots its writes were answered under and their blocks.
    struct Unsynced: Sendable {
        var boots: Set<UInt64> = []
        var blocks: Set<UInt64> = []
    }

    /// A block written since the last sync: its version, the nodes that acknowledged it, and
    /// how many fragments decode it.
    struct WrittenBlock: Sendable {
        var version: UInt64
        var acknowledged: Int
        var needed: Int
    }

    private struct State {
        var files: [FragmentFile: Unsynced] = [:]
        var blocks: [UInt64: WrittenBlock] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Records a block write: `deferred` are the fragment files whose nodes left it unsynced,
    /// each with the boot it answered under; `acknowledged` nodes took it in all. A write that
    /// no node deferred (an overwrite) is durable already: the block's older unsynced versions
    /// no longer decide whether its data survives a lost sync.
    func record(block: UInt64, version: UInt64, acknowledged: Int, needed: Int, deferred: [(FragmentFile, boot: UInt64)]) {
        state.withLock { state in
            if let known = state.blocks[block], known.version > version { return }
            guard !deferred.isEmpty else {
                state.blocks[block] = nil
                return
            }
            state.blocks[block] = WrittenBlock(version: version, acknowledged: acknowledged, needed: needed)
            for (file, boot) in deferred {
                state.files[file, default: Unsynced()].boots.insert(boot)
                state.files[file, default: Unsynced()].blocks.insert(block)
            }
        }
    }

    var isEmpty: Bool { state.withLock { $0.files.isEmpty } }

    /// Everything unsynced so far, forgotten here: the caller syncs it.
    func takeAll() -> (files: [FragmentFile: Unsynced], blocks: [UInt64: WrittenBlock]) {
        state.withLock { state in
            defer { state = State() }
            return (state.files, state.blocks)
        }
    }
}
