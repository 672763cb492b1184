/// The kind of an inode, with the `S_IFMT` bits POSIX gives it so the mount can pass them on.
public enum InodeKind: UInt8, Sendable, Codable, CaseIterable {
    case regular = 1
    case directory = 2
    case symlink = 3
    case fifo = 4
    case characterDevice = 5
    case blockDevice = 6
    case socket = 7

    /// The `S_IFMT` bits of this kind.
    public var modeBits: UInt32 {
        switch self {
        case .regular: 0o100000
        case .directory: 0o040000
        case .symlink: 0o120000
        case .fifo: 0o010000
        case .characterDevice: 0o020000
        case .blockDevice: 0o060000
        case .socket: 0o140000
        }
    }

    /// The kind named by the `S_IFMT` bits of `mode`, if any.
    public init?(mode: UInt32) {
        guard let kind = InodeKind.allCases.first(where: { $0.modeBits == mode & 0o170000 }) else { return nil }
        self = kind
    }
}

/// A point in time as POSIX keeps it: seconds and nanoseconds since the epoch.
public struct Timestamp: Sendable, Hashable, Codable, Comparable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// What `stat` shows of an inode. The metadata service owns these; the client caches them.
public struct InodeAttributes: Sendable, Hashable, Codable {
    /// The inode number; 1 is the root directory.
    public var inode: UInt64
    public var kind: InodeKind
    /// Permission bits only (0o7777); `kind.modeBits | permissions` is `st_mode`.
    public var permissions: UInt32
    public var linkCount: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Device number for character and block devices, else 0.
    public var rdev: UInt64
    /// Bytes, as `st_size`.
    public var size: UInt64
    public var accessTime: Timestamp
    public var modificationTime: Timestamp
    public var changeTime: Timestamp
    /// Bumped on every change of the inode; caches compare it to know they are current.
    public var generation: UInt64
    /// Bytes that hold data (`st_blocks` x 512, rounded up): a sparse file's holes store
    /// nothing, so `du` shows less than its size.
    public var allocatedBytes: UInt64

    public init(
        inode: UInt64, kind: InodeKind, permissions: UInt32, linkCount: UInt32, uid: UInt32,
        gid: UInt32, rdev: UInt64, size: UInt64, accessTime: Timestamp, modificationTime: Timestamp,
        changeTime: Timestamp, generation: UInt64, allocatedBytes: UInt64? = nil
    ) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.linkCount = linkCount
        self.uid = uid
        self.gid = gid
        self.rdev = rdev
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
        self.changeTime = changeTime
        self.generation = generation
        self.allocatedBytes = allocatedBytes ?? size
    }

    /// `st_mode`: the kind's bits and the permission bits.
    public var mode: UInt32 { kind.modeBits | (permissions & 0o7777) }
}

/// The fields a `setattr` changes; nil leaves a field as it is.
public struct AttributeChanges: Sendable, Hashable, Codable {
    public var permissions: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// A new size: truncates or extends (the extension reads as zeros).
    public var size: UInt64?
    public var accessTime: TimeChange?
    public var modificationTime: TimeChange?

    public init(
        permissions: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: UInt64? = nil,
        accessTime: TimeChange? = nil, modificationTime: TimeChange? = nil
    ) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }

    /// `utimensat` either names a time or asks for "now" (UTIME_NOW), which the service fills.
    public enum TimeChange: Sendable, Hashable, Codable {
        case now
        case at(Timestamp)
    }
}

/// One name in a directory listing.
public struct DirectoryEntry: Sendable, Hashable, Codable {
    public var name: FileName
    public var attributes: InodeAttributes
    /// Where the next listing continues from when it stops after this entry.
    public var cookie: UInt64

    public init(name: FileName, attributes: InodeAttributes, cookie: UInt64) {
        self.name = name
        self.attributes = attributes
        self.cookie = cookie
    }
}

/// What `statfs` reports: usable space, after the erasure code's overhead and the spare reserve.
public struct FileSystemStatistics: Sendable, Hashable, Codable {
    public var blockSize: UInt32
    public var totalBlocks: UInt64
    public var freeBlocks: UInt64
    public var availableBlocks: UInt64
    public var totalInodes: UInt64
    public var freeInodes: UInt64
    public var maximumNameLength: UInt32

    public init(
        blockSize: UInt32, totalBlocks: UInt64, freeBlocks: UInt64, availableBlocks: UInt64,
        totalInodes: UInt64, freeInodes: UInt64, maximumNameLength: UInt32
    ) {
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        self.freeBlocks = freeBlocks
        self.availableBlocks = availableBlocks
        self.totalInodes = totalInodes
        self.freeInodes = freeInodes
        self.maximumNameLength = maximumNameLength
    }
}
