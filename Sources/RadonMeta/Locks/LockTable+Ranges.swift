import RadonWire

/// The arithmetic of one owner's POSIX locks: replacing a range, and the invariants.
extension LockTable {
    /// `mine` (one owner's sorted, disjoint, merged locks) with `range` cut out and, if `new`
    /// is given, `new` put in its place, merged with the locks of its mode it overlaps or
    /// touches: the result again satisfies invariants 1 and 2, as Linux's posix_lock_inode
    /// leaves an owner's list.
    static func replacing(_ range: LockRange, in mine: [HeldLock], with new: HeldLock?) -> [HeldLock] {
        var result: [HeldLock] = []
        var merged = new
        for lock in mine {
            let touches = lock.range.overlaps(range) || lock.range.isAdjacent(to: range)
            if let current = merged, touches, lock.mode == current.mode {
                // Same mode, overlapping or adjacent: one lock covering both.
                merged?.range = LockRange(start: min(lock.range.start, current.range.start), end: max(lock.range.end, current.range.end))
            } else if lock.range.overlaps(range) {
                // Keep the parts outside the range (an unlock or a change of mode splits it).
                if lock.range.start < range.start {
                    result.append(HeldLock(owner: lock.owner, mode: lock.mode, range: LockRange(start: lock.range.start, end: range.start - 1), pid: lock.pid))
                }
                if lock.range.end > range.end {
                    result.append(HeldLock(owner: lock.owner, mode: lock.mode, range: LockRange(start: range.end + 1, end: lock.range.end), pid: lock.pid))
                }
            } else {
                result.append(lock)
            }
        }
        if let merged { result.append(merged) }
        return result.sorted { $0.range.start < $1.range.start }
    }

    /// Traps if the locks of `inode` break an invariant of the table (see the type's comment).
    func checkInvariants(of inode: UInt64) {
        guard let locks = inodes[inode] else { return }
        precondition(!locks.isEmpty, "inode \(inode) kept with no locks")
        for (owner, mine) in locks.posix {
            precondition(!mine.isEmpty, "owner \(owner) kept with no locks on inode \(inode)")
            for (index, lock) in mine.enumerated() {
                precondition(lock.owner == owner, "lock \(lock) filed under \(owner)")
                guard index > 0 else { continue }
                let previous = mine[index - 1]
                precondition(previous.range.end < lock.range.start, "locks of \(owner) on inode \(inode) overlap or are unsorted: \(previous), \(lock)")
                precondition(previous.mode != lock.mode || !previous.range.isAdjacent(to: lock.range),
                             "adjacent locks of one mode not merged on inode \(inode): \(previous), \(lock)")
            }
        }
        for (owner, lock) in locks.flock {
            precondition(lock.owner == owner && lock.range == .wholeFile, "flock lock \(lock) filed under \(owner)")
        }
        #if DEBUG
        for kind in FileLockKind.allCases {
            let all = locks.all(kind)
            for (index, lock) in all.enumerated() {
                for other in all[(index + 1)...] {
                    precondition(!other.blocks(lock.owner, lock.mode, over: lock.range), "conflicting locks held on inode \(inode): \(lock), \(other)")
                }
            }
        }
        #endif
    }
}
