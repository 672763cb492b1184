import Synchronization

/// The locks this client holds at the metadata service, as it last asked for them, so that
/// they can be reclaimed under a new session when the service forgot the old one (it
/// restarted, or another metadata server took over: locks live in the service's memory).
///
/// Kept per lock key (file, kernel lock owner, kind) as disjoint ranges with their mode, the
/// state the service's lock table holds for that owner (the service may merge adjacent
/// ranges; replaying the pieces gives the same coverage). A `Mutex`: updated right after each
/// lock reply, never across an await.
final class HeldLocks: Sendable {
    struct Key: Hashable {
        var inode: UInt64
        var owner: UInt64
        var kind: FileLockKind
    }

    struct Held: Equatable {
        var range: LockRange
        var mode: FileLockMode
        var pid: Int32
    }

    private let held = Mutex<[Key: [Held]]>([:])

    /// The service granted (`mode` set) or released (`mode` nil) `range` for `key`.
    func changed(_ key: Key, mode: FileLockMode?, range: LockRange, pid: Int32) {
        held.withLock { held in
            var pieces = (held[key] ?? []).flatMap { Self.cut(range, from: $0) }
            if let mode { pieces.append(Held(range: range, mode: mode, pid: pid)) }
            held[key] = pieces.isEmpty ? nil : pieces
        }
    }

    /// Every lock of `owner` on `inode` of these kinds went (a close released them).
    func released(inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) {
        held.withLock { held in
            for kind in kinds { held[Key(inode: inode, owner: owner, kind: kind)] = nil }
        }
    }

    /// The locks to reclaim, in no particular order.
    var all: [(Key, Held)] {
        held.withLock { held in held.flatMap { key, pieces in pieces.map { (key, $0) } } }
    }

    /// `piece` without the bytes of `range`: nothing, one piece or two.
    static func cut(_ range: LockRange, from piece: Held) -> [Held] {
        guard piece.range.overlaps(range) else { return [piece] }
        var left = [Held]()
        if piece.range.start < range.start {
            left.append(Held(range: LockRange(start: piece.range.start, end: range.start - 1), mode: piece.mode, pid: piece.pid))
        }
        if range.end < piece.range.end {
            left.append(Held(range: LockRange(start: range.end + 1, end: piece.range.end), mode: piece.mode, pid: piece.pid))
        }
        return left
    }
}
