import NIOCore

// Requests and replies of the cluster's file locks (POSIX byte-range and flock), held by the
// metadata service for client sessions.

/// Takes, changes or releases a lock (F_SETLK, F_SETLKW, flock).
///
/// With `wait` the service holds the request while another owner's lock is in the way, at most
/// its maximum wait (10 s), and answers `granted` false if it is still in the way then: the
/// client asks again, so no request hangs forever and the waits of a client that died vanish.
/// `waitToken` names the wait for `cancelLockWait` (unique within the session).
public struct SetLockRequest: WireMessage, Hashable {
    public var session: UInt64
    public var inode: UInt64
    /// The kernel's lock owner within the session.
    public var owner: UInt64
    public var kind: FileLockKind
    /// nil releases the range (F_UNLCK, LOCK_UN).
    public var mode: FileLockMode?
    /// Ignored for flock locks (they cover the whole file).
    public var range: LockRange
    public var pid: Int32
    public var wait: Bool
    public var waitToken: UInt64

    public init(session: UInt64, inode: UInt64, owner: UInt64, kind: FileLockKind, mode: FileLockMode?,
                range: LockRange = .wholeFile, pid: Int32 = 0, wait: Bool = false, waitToken: UInt64 = 0) {
        self.session = session
        self.inode = inode
        self.owner = owner
        self.kind = kind
        self.mode = mode
        self.range = range
        self.pid = pid
        self.wait = wait
        self.waitToken = waitToken
    }

    public var lockOwner: LockOwner { LockOwner(session: session, owner: owner) }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(inode)
        buffer.writeInteger(owner)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(mode?.rawValue ?? FileLockMode.unlockCode)
        range.encode(into: &buffer)
        buffer.writeInteger(pid)
        buffer.writeWireBool(wait)
        buffer.writeInteger(waitToken)
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        owner = try buffer.readWireInteger()
        kind = try buffer.readWireEnum(FileLockKind.self, "lock kind")
        mode = try FileLockMode.readRequested(from: &buffer)
        range = try LockRange(from: &buffer)
        pid = try buffer.readWireInteger()
        wait = try buffer.readWireBool()
        waitToken = try buffer.readWireInteger()
    }
}

/// Whether a lock was granted: false only for a waiting request whose wait ran out (ask again).
public struct SetLockReply: WireMessage, Hashable {
    public var granted: Bool
    public init(granted: Bool) { self.granted = granted }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireBool(granted) }
    public init(from buffer: inout ByteBuffer) throws { granted = try buffer.readWireBool() }
}

/// F_GETLK: which lock, if any, stands in the way of `owner` taking `mode` over `range`.
public struct TestLockRequest: WireMessage, Hashable {
    public var session: UInt64
    public var inode: UInt64
    public var owner: UInt64
    public var mode: FileLockMode
    public var range: LockRange

    public init(session: UInt64, inode: UInt64, owner: UInt64, mode: FileLockMode, range: LockRange) {
        self.session = session
        self.inode = inode
        self.owner = owner
        self.mode = mode
        self.range = range
    }

    public var lockOwner: LockOwner { LockOwner(session: session, owner: owner) }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(inode)
        buffer.writeInteger(owner)
        buffer.writeInteger(mode.rawValue)
        range.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        owner = try buffer.readWireInteger()
        mode = try buffer.readWireEnum(FileLockMode.self, "lock mode")
        range = try LockRange(from: &buffer)
    }
}

/// The first lock in the way (lowest start, then owner), or none.
public struct TestLockReply: WireMessage, Hashable {
    public var conflict: LockConflict?
    public init(conflict: LockConflict?) { self.conflict = conflict }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireOptional(conflict) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { conflict = try buffer.readWireOptional { try LockConflict(from: &$0) } }
}

/// Releases every lock of one owner on one inode, of the kinds given (close: POSIX; the last
/// release of a file description: flock and its OFD locks).
public struct ReleaseLocksRequest: WireMessage, Hashable {
    public var session: UInt64
    public var inode: UInt64
    public var owner: UInt64
    public var kinds: Set<FileLockKind>

    public init(session: UInt64, inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) {
        self.session = session
        self.inode = inode
        self.owner = owner
        self.kinds = kinds
    }

    public var lockOwner: LockOwner { LockOwner(session: session, owner: owner) }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(inode)
        buffer.writeInteger(owner)
        buffer.writeInteger(kinds.reduce(UInt8(0)) { $0 | 1 << $1.rawValue })
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        owner = try buffer.readWireInteger()
        let mask = try buffer.readWireInteger(as: UInt8.self)
        kinds = Set(FileLockKind.allCases.filter { mask & 1 << $0.rawValue != 0 })
        guard mask & ~kinds.reduce(UInt8(0), { $0 | 1 << $1.rawValue }) == 0 else {
            throw WireError.badRequest("unknown lock kinds in mask \(mask)")
        }
    }
}

/// Ends a waiting `setLock` of the session (the waiting process got a signal): the wait is
/// answered EINTR unless it was granted first.
public struct CancelLockWaitRequest: WireMessage, Hashable {
    public var session: UInt64
    public var waitToken: UInt64

    public init(session: UInt64, waitToken: UInt64) {
        self.session = session
        self.waitToken = waitToken
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(session)
        buffer.writeInteger(waitToken)
    }

    public init(from buffer: inout ByteBuffer) throws {
        session = try buffer.readWireInteger()
        waitToken = try buffer.readWireInteger()
    }
}
