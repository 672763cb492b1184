@_exported import RadonWire

/// A user's identity for one request, as the kernel gives it to the mount; permission checks
/// are made against it.
public struct RequestContext: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups, where known.
    public var groups: [UInt32]
    public var pid: Int32

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = [], pid: Int32 = 0) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.pid = pid
    }

    public static let root = RequestContext(uid: 0, gid: 0)
}

/// How `rename` treats an existing target (Linux `renameat2` flags).
public enum RenameMode: Sendable, Hashable {
    /// Replace the target if it exists (plain `rename`).
    case replace
    /// Fail with EEXIST if the target exists (`RENAME_NOREPLACE`).
    case noReplace
    /// Swap source and target atomically; both must exist (`RENAME_EXCHANGE`).
    case exchange
}

/// How a file is opened: the flags that change what the core does.
public struct OpenFlags: Sendable, Hashable {
    public var read: Bool
    public var write: Bool
    public var append: Bool
    public var truncate: Bool

    public init(read: Bool, write: Bool, append: Bool = false, truncate: Bool = false) {
        self.read = read
        self.write = write
        self.append = append
        self.truncate = truncate
    }
}

/// An open file: the core keeps its write buffer and read-ahead state behind this number.
public struct FileHandle: Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The whole file system as the mount sees it, by inode number, in POSIX terms.
///
/// The client core implements it over the metadata service and the storage daemons; the FUSE
/// mount calls it and nothing else, so the mount can be tested against any implementation and
/// the core never hears of FUSE. Every method throws `FileSystemError` (an errno) on failure.
/// Inode 1 is the root directory. Names in directories are bytes (`FileName`), as are symbolic
/// link targets (any bytes but NUL); extended attribute names are text.
public protocol FileSystemOperations: Sendable {
    func lookup(parent: UInt64, name: FileName, context: RequestContext) async throws -> InodeAttributes
    /// A lookup with how long its answer may still be trusted, when that is less than a
    /// fresh answer's (one the client had been sent ahead, see `DirectoryLookahead`).
    func lookupEntry(parent: UInt64, name: FileName, context: RequestContext) async throws -> LookedUpEntry
    func attributes(of inode: UInt64) async throws -> InodeAttributes
    func setAttributes(of inode: UInt64, _ changes: AttributeChanges, handle: FileHandle?, context: RequestContext) async throws -> InodeAttributes

    /// Creates a regular file, fifo, socket or device node (mknod).
    func makeNode(parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64, context: RequestContext) async throws -> InodeAttributes
    func makeDirectory(parent: UInt64, name: FileName, permissions: UInt32, context: RequestContext) async throws -> InodeAttributes
    func makeSymbolicLink(parent: UInt64, name: FileName, target: [UInt8], context: RequestContext) async throws -> InodeAttributes
    func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8]
    func removeFile(parent: UInt64, name: FileName, context: RequestContext) async throws
    func removeDirectory(parent: UInt64, name: FileName, context: RequestContext) async throws
    func rename(parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: RenameMode, context: RequestContext) async throws
    func link(_ inode: UInt64, newParent: UInt64, newName: FileName, context: RequestContext) async throws -> InodeAttributes

    /// Creates and opens a regular file; `exclusive` is O_EXCL.
    func create(parent: UInt64, name: FileName, permissions: UInt32, flags: OpenFlags, exclusive: Bool, context: RequestContext) async throws -> CreatedFile
    func open(_ inode: UInt64, flags: OpenFlags, context: RequestContext) async throws -> FileHandle
    /// Reads up to `count` bytes; fewer only at end of file. Holes read as zeros.
    func read(_ handle: FileHandle, offset: UInt64, count: Int) async throws -> [UInt8]
    /// Writes all of `bytes` (at the end of file when the handle was opened with append);
    /// returns the count written. May stay buffered until `flush`, `fsync` or `release`.
    func write(_ handle: FileHandle, offset: UInt64, bytes: [UInt8]) async throws -> Int
    /// close(2) of one descriptor: buffered writes become durable and visible to other clients.
    func flush(_ handle: FileHandle) async throws
    func fsync(_ handle: FileHandle, dataOnly: Bool) async throws
    func release(_ handle: FileHandle) async throws
    /// Reserves space (mode 0) or punches a hole, as fallocate(2).
    func allocate(_ handle: FileHandle, offset: UInt64, length: UInt64, mode: Int32) async throws

    /// Up to `limit` entries after `cookie` (0 starts from the beginning; "." and ".." included).
    func readDirectory(_ inode: UInt64, after cookie: UInt64, limit: Int) async throws -> [DirectoryEntry]
    func statistics() async throws -> FileSystemStatistics
    /// The statistics as seen from directory `inode`: the quotas above it as size and inodes.
    func statistics(of inode: UInt64) async throws -> FileSystemStatistics

    func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8]
    /// `flags`: XATTR_CREATE (1) fails if present, XATTR_REPLACE (2) fails if absent.
    func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws
    func extendedAttributeNames(of inode: UInt64) async throws -> [String]
    func removeExtendedAttribute(of inode: UInt64, name: String, context: RequestContext) async throws

    // Locks: cluster-wide, held for this client's session, so every mount of the file system
    // sees them. `owner` is the kernel's lock owner (FUSE `lock_owner`); one client's owners are
    // told apart from another's by the session.

    /// F_GETLK: the first lock of another owner in the way of `mode` over `range`, or nil.
    func getLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode, range: LockRange) async throws -> LockConflict?
    /// F_SETLK / F_SETLKW: takes, changes (nil: releases) the POSIX lock of `owner` over
    /// `range`. Without `wait` a lock in the way is EAGAIN; with it the call returns when the
    /// lock is taken, and throws EINTR if its task is cancelled first (taking nothing).
    /// Buffered writes of the file are flushed first and cached data is revalidated after a
    /// grant, so what one client wrote under a lock is what the next holder reads.
    func setLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, range: LockRange, pid: Int32, wait: Bool) async throws
    /// flock(2) of the whole file (nil: LOCK_UN), as `setLock`; flock and POSIX locks never
    /// conflict with each other.
    func flock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, pid: Int32, wait: Bool) async throws
    /// Releases every lock of `owner` on `inode` of `kinds` (close(2) releases the POSIX locks
    /// of the closing process; the last close of a file description its flock and OFD locks).
    func releaseLocks(_ inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) async throws
}

/// What `create` gives back: the file, its open handle, and whether the create made it (false
/// when a create without O_EXCL found it there).
public struct CreatedFile: Sendable {
    public var attributes: InodeAttributes
    public var handle: FileHandle
    /// A new inode has no extended attributes yet (so no file capability to drop on write).
    public var isNew: Bool

    public init(attributes: InodeAttributes, handle: FileHandle, isNew: Bool) {
        self.attributes = attributes
        self.handle = handle
        self.isNew = isNew
    }
}

extension FileSystemOperations {
    /// A file system without directory quotas looks the same from every directory.
    public func statistics(of inode: UInt64) async throws -> FileSystemStatistics { try await statistics() }

    /// A file system that answers every lookup afresh.
    public func lookupEntry(parent: UInt64, name: FileName, context: RequestContext) async throws -> LookedUpEntry {
        LookedUpEntry(attributes: try await lookup(parent: parent, name: name, context: context))
    }
}

/// A lookup's answer, and how much longer it may be trusted when it was not fresh: a cache
/// above (the kernel's) must not keep it longer than that.
public struct LookedUpEntry: Sendable, Hashable {
    public var attributes: InodeAttributes
    /// nil: fresh from the service, trusted for the usual timeouts.
    public var trustedFor: Duration?

    public init(attributes: InodeAttributes, trustedFor: Duration? = nil) {
        self.attributes = attributes
        self.trustedFor = trustedFor
    }
}
