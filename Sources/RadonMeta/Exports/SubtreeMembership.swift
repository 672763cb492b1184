import Synchronization

/// The inodes known to lie within each exported subtree, so that a client's request costs a
/// walk up the namespace (`MetadataStore.isWithin`) only the first time it names an inode.
///
/// Invariant: an inode is listed under a root only while it has a name below that root. The
/// service keeps it so by forgetting an inode when one of its names goes (unlink, rmdir, the
/// target a rename replaces) and everything when a directory moves to another parent (its
/// whole subtree may have left). Listing less is always safe: it costs a walk.
final class SubtreeMembership: Sendable {
    /// Past this many inodes under one root, that root's list starts again.
    static let capacity = 1 << 20

    private let members = Mutex<[UInt64: Set<UInt64>]>([:])

    func contains(_ inode: UInt64, under root: UInt64) -> Bool {
        members.withLock { $0[root]?.contains(inode) ?? false }
    }

    func insert(_ inodes: some Sequence<UInt64>, under root: UInt64) {
        members.withLock { members in
            if members[root, default: []].count >= Self.capacity { members[root] = [] }
            members[root, default: []].formUnion(inodes)
        }
    }

    /// One of these inodes' names went: each may now lie outside a subtree.
    func forget(_ inodes: some Sequence<UInt64>) {
        members.withLock { members in
            for root in members.keys {
                for inode in inodes { members[root]?.remove(inode) }
            }
        }
    }

    /// A directory moved: anything below it may have left a subtree.
    func forgetAll() {
        members.withLock { $0 = [:] }
    }
}
