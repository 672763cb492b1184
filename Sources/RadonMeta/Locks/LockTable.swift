import RadonWire

/// One lock as the table holds it.
public struct HeldLock: Sendable, Hashable, CustomStringConvertible {
    public var owner: LockOwner
    public var mode: FileLockMode
    public var range: LockRange
    /// The pid the holder gave (reported by F_GETLK; never used to decide anything).
    public var pid: Int32

    public init(owner: LockOwner, mode: FileLockMode, range: LockRange, pid: Int32) {
        self.owner = owner
        self.mode = mode
        self.range = range
        self.pid = pid
    }

    public var conflict: LockConflict { LockConflict(mode: mode, range: range, pid: pid) }

    /// Whether this lock stands in the way of `owner` taking `mode` over `range`.
    public func blocks(_ owner: LockOwner, _ mode: FileLockMode, over range: LockRange) -> Bool {
        self.owner != owner && !self.mode.isCompatible(with: mode) && self.range.overlaps(range)
    }

    public var description: String { "\(mode) \(range) by \(owner) (pid \(pid))" }
}

/// The cluster's file locks: POSIX byte-range locks and flock locks of every inode, by owner.
///
/// A pure value: no clocks, no waiting, no I/O (`LockManager` adds those), so the rules can
/// be checked against a model byte by byte. The rules are Linux's (fs/locks.c):
/// - an owner's own locks never conflict with it: setting a range replaces whatever the owner
///   held there (upgrade, downgrade, split), and unlocking a range cuts it out of its locks;
/// - another owner's lock conflicts when the ranges overlap and either is exclusive;
/// - POSIX and flock locks are separate namespaces and never conflict with each other;
/// - a flock conversion (shared to exclusive or back) drops the old lock first, so a conversion
///   that fails has lost the old lock, as flock(2) documents.
///
/// Invariants (checked after every change with preconditions; the cross-owner check, which
/// is quadratic, only in debug builds):
/// 1. each owner's POSIX locks on an inode are sorted by start and pairwise disjoint;
/// 2. two locks of one owner with the same mode never touch (they are merged into one);
/// 3. no two locks of different owners on an inode conflict;
/// 4. no inode or owner entry is empty (a released owner or inode leaves nothing behind).
public struct LockTable: Sendable {
    struct InodeLocks: Sendable {
        /// Each owner's POSIX locks, sorted by start (invariants 1, 2).
        var posix: [LockOwner: [HeldLock]] = [:]
        /// Each owner's flock lock (always over the whole file).
        var flock: [LockOwner: HeldLock] = [:]

        var isEmpty: Bool { posix.isEmpty && flock.isEmpty }

        func all(_ kind: FileLockKind) -> [HeldLock] {
            switch kind {
            case .posix: posix.values.flatMap { $0 }
            case .flock: Array(flock.values)
            }
        }
    }

    private(set) var inodes: [UInt64: InodeLocks] = [:]

    public init() {}

    public var isEmpty: Bool { inodes.isEmpty }

    /// Every lock of `kind` on `inode`, ordered by start, then owner.
    public func locks(on inode: UInt64, kind: FileLockKind) -> [HeldLock] {
        (inodes[inode]?.all(kind) ?? []).sorted(by: Self.reportOrder)
    }

    /// The locks that stand in the way of `owner` taking `mode` over `range`, ordered by
    /// start, then owner: the first is what F_GETLK reports.
    public func conflicts(on inode: UInt64, kind: FileLockKind, owner: LockOwner, mode: FileLockMode, range: LockRange) -> [HeldLock] {
        guard let locks = inodes[inode] else { return [] }
        return locks.all(kind).filter { $0.blocks(owner, mode, over: range) }.sorted(by: Self.reportOrder)
    }

    /// The first lock in the way (F_GETLK), or nil when `owner` could take it now.
    public func firstConflict(on inode: UInt64, kind: FileLockKind, owner: LockOwner, mode: FileLockMode, range: LockRange) -> HeldLock? {
        conflicts(on: inode, kind: kind, owner: owner, mode: mode, range: range).first
    }

    /// Takes a lock if no other owner's lock is in the way; returns the first one in the way
    /// otherwise (and changes nothing, except that a flock conversion has dropped the old lock).
    public mutating func lock(_ inode: UInt64, kind: FileLockKind, owner: LockOwner, mode: FileLockMode, range: LockRange, pid: Int32) -> HeldLock? {
        let requested = HeldLock(owner: owner, mode: mode, range: kind == .flock ? .wholeFile : range, pid: pid)
        switch kind {
        case .posix:
            if let conflict = firstConflict(on: inode, kind: .posix, owner: owner, mode: mode, range: requested.range) { return conflict }
            update(inode) { locks in
                locks.posix[owner] = Self.replacing(requested.range, in: locks.posix[owner] ?? [], with: requested)
            }
        case .flock:
            if let held = inodes[inode]?.flock[owner], held.mode == mode { return nil }
            // Linux removes the old lock before it tries the new one (flock_lock_inode).
            update(inode) { $0.flock[owner] = nil }
            if let conflict = firstConflict(on: inode, kind: .flock, owner: owner, mode: mode, range: .wholeFile) { return conflict }
            update(inode) { $0.flock[owner] = requested }
        }
        return nil
    }

    /// Releases what `owner` holds over `range` (POSIX: splitting locks that reach beyond it;
    /// flock: the whole lock, whatever the range). Releasing nothing is not an error.
    public mutating func unlock(_ inode: UInt64, kind: FileLockKind, owner: LockOwner, range: LockRange = .wholeFile) {
        update(inode) { locks in
            switch kind {
            case .posix:
                guard let mine = locks.posix[owner] else { return }
                let rest = Self.replacing(range, in: mine, with: nil)
                locks.posix[owner] = rest.isEmpty ? nil : rest
            case .flock:
                locks.flock[owner] = nil
            }
        }
    }

    /// Releases every lock of `owner` of the given kinds on `inode` (close, release).
    public mutating func releaseAll(_ inode: UInt64, owner: LockOwner, kinds: Set<FileLockKind> = Set(FileLockKind.allCases)) {
        update(inode) { locks in
            if kinds.contains(.posix) { locks.posix[owner] = nil }
            if kinds.contains(.flock) { locks.flock[owner] = nil }
        }
    }

    /// Releases every lock of `owner` on every inode; returns the inodes that lost any.
    @discardableResult
    public mutating func releaseAll(owner: LockOwner) -> [UInt64] {
        release { $0 == owner }
    }

    /// Releases every lock of every owner of `session` (the session lapsed or closed); returns
    /// the inodes that lost any.
    @discardableResult
    public mutating func releaseAll(session: UInt64) -> [UInt64] {
        release { $0.session == session }
    }

    private mutating func release(where matches: (LockOwner) -> Bool) -> [UInt64] {
        var touched: [UInt64] = []
        for (inode, locks) in inodes where locks.posix.keys.contains(where: matches) || locks.flock.keys.contains(where: matches) {
            touched.append(inode)
            update(inode) { locks in
                locks.posix = locks.posix.filter { !matches($0.key) }
                locks.flock = locks.flock.filter { !matches($0.key) }
            }
        }
        return touched.sorted()
    }

    /// Applies `change` to the locks of `inode`, drops the entry if it became empty, and checks
    /// the invariants of that inode.
    private mutating func update(_ inode: UInt64, _ change: (inout InodeLocks) -> Void) {
        var locks = inodes[inode] ?? InodeLocks()
        change(&locks)
        inodes[inode] = locks.isEmpty ? nil : locks
        checkInvariants(of: inode)
    }

    static func reportOrder(_ a: HeldLock, _ b: HeldLock) -> Bool {
        (a.range.start, a.owner) < (b.range.start, b.owner)
    }
}
