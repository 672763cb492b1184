/// The two kinds of file lock Linux gives a file system, in separate namespaces: a POSIX
/// byte-range lock (fcntl F_SETLK, lockf, and OFD locks, which reach a FUSE file system as
/// POSIX locks with an owner of their own) never conflicts with a flock(2) lock, even on the
/// same file, as on a local Linux file system.
public enum FileLockKind: UInt8, Sendable, Hashable, CaseIterable {
    case posix = 0
    case flock = 1
}

/// How a lock is held: shared (F_RDLCK, LOCK_SH; many owners at once) or exclusive (F_WRLCK,
/// LOCK_EX; one owner, and nobody else holds any lock overlapping it).
public enum FileLockMode: UInt8, Sendable, Hashable, CaseIterable {
    case shared = 0
    case exclusive = 1

    /// Whether a lock held in `self` by one owner and one in `other` by another can overlap.
    public func isCompatible(with other: FileLockMode) -> Bool {
        self == .shared && other == .shared
    }
}

/// A byte range of a file, both ends inclusive: `end == UInt64.max` is "to the end of file,
/// however far it grows" (struct flock's l_len 0). A flock lock covers `LockRange.wholeFile`.
///
/// Invariant: `start <= end`, so a range is never empty (the initializer traps otherwise;
/// input from the wire goes through `init(checkedStart:end:)`).
public struct LockRange: Sendable, Hashable, CustomStringConvertible {
    public let start: UInt64
    public let end: UInt64

    public init(start: UInt64, end: UInt64) {
        precondition(start <= end, "a lock range ends before it starts: \(start)...\(end)")
        self.start = start
        self.end = end
    }

    /// The range, or nil when `end < start` (an EINVAL for the caller).
    public init?(checkedStart start: UInt64, end: UInt64) {
        guard start <= end else { return nil }
        self.init(start: start, end: end)
    }

    public static let wholeFile = LockRange(start: 0, end: .max)

    public var reachesEndOfFile: Bool { end == .max }

    public func overlaps(_ other: LockRange) -> Bool {
        start <= other.end && other.start <= end
    }

    /// Whether the two ranges touch end to start without overlapping (Linux merges such locks
    /// of one owner when they are of the same mode).
    public func isAdjacent(to other: LockRange) -> Bool {
        (end != .max && end + 1 == other.start) || (other.end != .max && other.end + 1 == start)
    }

    public func contains(_ offset: UInt64) -> Bool { start <= offset && offset <= end }

    public var description: String { reachesEndOfFile ? "\(start)...EOF" : "\(start)...\(end)" }
}

/// Who holds a lock: the client session and, within it, the kernel's lock owner (the FUSE
/// `lock_owner`: a process's file table for POSIX locks, the open file description for OFD and
/// flock locks). Two mounts' owner numbers may collide; with the session they never do.
public struct LockOwner: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var session: UInt64
    public var owner: UInt64

    public init(session: UInt64, owner: UInt64) {
        self.session = session
        self.owner = owner
    }

    public static func < (lhs: LockOwner, rhs: LockOwner) -> Bool {
        (lhs.session, lhs.owner) < (rhs.session, rhs.owner)
    }

    public var description: String { "\(String(session, radix: 16))/\(String(owner, radix: 16))" }
}

/// A lock in another owner's way, as F_GETLK reports it: its mode, range and the pid the
/// holder gave when it took it.
public struct LockConflict: Sendable, Hashable {
    public var mode: FileLockMode
    public var range: LockRange
    public var pid: Int32

    public init(mode: FileLockMode, range: LockRange, pid: Int32) {
        self.mode = mode
        self.range = range
        self.pid = pid
    }
}
