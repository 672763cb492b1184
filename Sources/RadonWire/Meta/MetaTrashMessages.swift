import NIOCore

/// `trashList`: a page of the trash, in inode order. Operator only.
///
/// The trash keeps a regular file whose last name went (unlink, or a rename over it) for the
/// cluster's retention: its inode, block map and fragments stay as they were, so it counts
/// against capacity and comes back byte for byte. An entry is known by its inode number.
public typealias TrashListRequest = InodePageRequest

/// One file in the trash: where it was, what it holds, when it goes for good.
public struct TrashEntry: Sendable, Hashable, Codable {
    /// Its inode number, also the id `restore` and `purge` take.
    public var inode: UInt64
    /// The directory it was removed from and the name it had there.
    public var parent: UInt64
    public var name: FileName
    /// The path of that name now (from the parent's current place), or nil when the parent
    /// directory is gone: the file then comes back only with a destination.
    public var path: String?
    public var size: UInt64
    public var removedAt: Timestamp
    /// `removedAt` plus the retention when listed: the maintenance pass frees it after.
    public var expiresAt: Timestamp

    public init(inode: UInt64, parent: UInt64, name: FileName, path: String?, size: UInt64, removedAt: Timestamp, expiresAt: Timestamp) {
        self.inode = inode
        self.parent = parent
        self.name = name
        self.path = path
        self.size = size
        self.removedAt = removedAt
        self.expiresAt = expiresAt
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(inode, parent)
        buffer.writeMetaName(name)
        buffer.writeWireOptional(path) { $0.writeWireString($1) }
        buffer.writeInteger(size)
        buffer.writeWireMessage(removedAt)
        buffer.writeWireMessage(expiresAt)
    }

    init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        path = try buffer.readWireOptional { try $0.readWireString(maximumLength: 1 << 20) }
        size = try buffer.readWireInteger()
        removedAt = try buffer.readWireMessage()
        expiresAt = try buffer.readWireMessage()
    }
}

public struct TrashListReply: WireMessage, Hashable {
    public var entries: [TrashEntry]

    public init(entries: [TrashEntry]) { self.entries = entries }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(entries) { $1.encode(into: &$0) } }

    public init(from buffer: inout ByteBuffer) throws {
        entries = try buffer.readWireArray(maximumCount: 100_000) { try TrashEntry(from: &$0) }
    }
}

/// `trashRestore`: gives a file in the trash a name again, its original one or `destination`.
/// Refused (EEXIST, ENOENT) when the name is taken or the directory is gone: the entry stays.
public struct TrashRestoreRequest: WireMessage, Hashable {
    public var inode: UInt64
    /// An absolute path in the file system, whose parent directory exists; nil: where it was.
    public var destination: String?

    public init(inode: UInt64, destination: String? = nil) {
        self.inode = inode
        self.destination = destination
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeWireOptional(destination) { $0.writeWireString($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        destination = try buffer.readWireOptional { try $0.readWireString(maximumLength: 1 << 20) }
    }
}

/// The restored file: its attributes and the path it has now.
public struct TrashRestoreReply: WireMessage, Hashable {
    public var attributes: InodeAttributes
    public var path: String

    public init(attributes: InodeAttributes, path: String) {
        self.attributes = attributes
        self.path = path
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireMessage(attributes)
        buffer.writeWireString(path)
    }

    public init(from buffer: inout ByteBuffer) throws {
        attributes = try buffer.readWireMessage()
        path = try buffer.readWireString(maximumLength: 1 << 20)
    }
}

/// `trashPurge`: frees the listed entries now (or every entry), as expiry would.
public struct TrashPurgeRequest: WireMessage, Hashable {
    public var inodes: [UInt64]
    public var all: Bool

    public init(inodes: [UInt64], all: Bool = false) {
        self.inodes = inodes
        self.all = all
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(inodes) { $0.writeInteger($1) }
        buffer.writeWireBool(all)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inodes = try buffer.readWireArray(maximumCount: 100_000) { try $0.readWireInteger() }
        all = try buffer.readWireBool()
    }
}

/// `trashSettings`: reads the retention, or sets it first when `retentionSeconds` is given.
public struct TrashSettingsRequest: WireMessage, Hashable {
    /// The new retention in seconds (0: removed files go at once); nil only reads.
    public var retentionSeconds: UInt64?

    public init(retentionSeconds: UInt64? = nil) { self.retentionSeconds = retentionSeconds }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireOptional(retentionSeconds) { $0.writeInteger($1) } }

    public init(from buffer: inout ByteBuffer) throws {
        retentionSeconds = try buffer.readWireOptional { try $0.readWireInteger() }
    }
}

/// What the trash holds and for how long: the reply to `trashSettings` and `trashPurge`.
public struct TrashSummary: WireMessage, Hashable, Codable {
    /// How long a removed file is kept (0: not at all), cluster-wide.
    public var retentionSeconds: UInt64
    public var files: UInt64
    /// The sum of their sizes (what they hold on the storage nodes, before redundancy).
    public var bytes: UInt64

    public init(retentionSeconds: UInt64, files: UInt64, bytes: UInt64) {
        self.retentionSeconds = retentionSeconds
        self.files = files
        self.bytes = bytes
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(retentionSeconds, files, bytes) }

    public init(from buffer: inout ByteBuffer) throws {
        retentionSeconds = try buffer.readWireInteger()
        files = try buffer.readWireInteger()
        bytes = try buffer.readWireInteger()
    }
}

/// What a purge freed: the files whose entries went, and the sum of their sizes.
public struct TrashPurgeReply: WireMessage, Hashable {
    public var files: UInt64
    public var bytes: UInt64

    public init(files: UInt64, bytes: UInt64) {
        self.files = files
        self.bytes = bytes
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(files, bytes) }

    public init(from buffer: inout ByteBuffer) throws {
        files = try buffer.readWireInteger()
        bytes = try buffer.readWireInteger()
    }
}
