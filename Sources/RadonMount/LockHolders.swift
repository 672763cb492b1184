/// Which lock owners of this mount may hold POSIX locks, and through which open file
/// descriptions they took them, so a close asks the metadata service only when there can be
/// something to release (every close(2) sends a flush, and almost none follows a lock).
///
/// Both releases answer to how the kernel talks to FUSE:
/// - flush (any close by a process) releases that process's POSIX locks on the file: the
///   (inode, owner) pair is forgotten with every description it was recorded for, since none
///   of its locks is left;
/// - the last release of a description releases the pairs still recorded for it: the OFD locks
///   taken through it (an OFD lock's owner is the description itself, and the kernel names that
///   owner at close only for descriptions that used flock). A classic POSIX owner is never
///   still recorded then: its process closed the description, and that flush forgot it. So a
///   release that arrives late (releases are asynchronous) never takes a lock the process
///   took afterwards through another description.
///
/// A pair may outlive its locks (an explicit unlock keeps it until close); that only costs one
/// needless call. The reverse does not happen: a pair is recorded before its lock is asked for.
struct LockHolders: Sendable {
    struct Key: Hashable, Sendable {
        var inode: UInt64
        var owner: UInt64
    }

    /// Each pair that may hold POSIX locks, with the handles it locked through (never empty).
    private(set) var handles: [Key: Set<UInt64>] = [:]

    mutating func record(_ inode: UInt64, owner: UInt64, handle: UInt64) {
        handles[Key(inode: inode, owner: owner), default: []].insert(handle)
    }

    /// Whether `owner` may hold POSIX locks on `inode`; forgets it (the caller releases them).
    mutating func takePosix(_ inode: UInt64, owner: UInt64) -> Bool {
        handles.removeValue(forKey: Key(inode: inode, owner: owner)) != nil
    }

    /// The pairs that locked through `handle` and were not released by a close since; they
    /// are forgotten for this handle.
    mutating func takeHandle(_ handle: UInt64) -> [Key] {
        var taken: [Key] = []
        for (key, through) in handles where through.contains(handle) {
            taken.append(key)
            handles[key]!.remove(handle)
            if handles[key]!.isEmpty { handles[key] = nil }
        }
        return taken
    }
}
