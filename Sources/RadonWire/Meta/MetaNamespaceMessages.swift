import NIOCore

// Requests and replies of the namespace operations. Each request carries the caller whose
// permissions the service checks; names are bounded at `MetaLimits.maximumNameLength` when
// decoded, so an oversized name is refused before the service sees it.

extension ByteBuffer {
    /// A name as u32 length + bytes (the layout strings have): any bytes, not only UTF-8.
    mutating func writeMetaName(_ name: FileName) {
        writeWireBytes(name.bytes)
    }

    mutating func readMetaName(maximumLength: Int = MetaLimits.maximumNameLength + 1) throws -> FileName {
        // One byte more than allowed, so the service can answer ENAMETOOLONG rather than EINVAL.
        FileName(bytes: try readWireBytes(maximumLength: maximumLength))
    }
}

/// A request naming one inode: getAttributes, readSymbolicLink, fileLayout, readInline,
/// clearInline, listExtendedAttributes.
public struct InodeRequest: WireMessage, Hashable {
    public var inode: UInt64
    public init(inode: UInt64) { self.inode = inode }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(inode) }
    public init(from buffer: inout ByteBuffer) throws { inode = try buffer.readWireInteger() }
}

/// A name in a directory, with the caller: lookup, remove, removeDirectory.
public struct NameRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    public var caller: MetaCaller

    public init(parent: UInt64, name: FileName, caller: MetaCaller) {
        self.parent = parent
        self.name = name
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(parent)
        buffer.writeMetaName(name)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        caller = try MetaCaller(from: &buffer)
    }
}

public struct SetAttributesRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var changes: AttributeChanges
    public var caller: MetaCaller
    /// The caller changes the file through a descriptor it opened for writing (ftruncate):
    /// Linux checked write access at open, so a size change needs no write permission now
    /// (a file made by open(O_CREAT|O_RDWR, 0) can still be truncated through its descriptor).
    /// The service trusts the client for this as it trusts it for the caller's identity.
    /// A trailing field: requests without it decode as false.
    public var throughWritableHandle: Bool

    public init(inode: UInt64, changes: AttributeChanges, caller: MetaCaller, throughWritableHandle: Bool = false) {
        self.inode = inode
        self.changes = changes
        self.caller = caller
        self.throughWritableHandle = throughWritableHandle
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        changes.encode(into: &buffer)
        caller.encode(into: &buffer)
        buffer.writeWireBool(throughWritableHandle)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        changes = try AttributeChanges(from: &buffer)
        caller = try MetaCaller(from: &buffer)
        throughWritableHandle = buffer.readableBytes > 0 ? try buffer.readWireBool() : false
    }
}

/// Creates any inode but a directory or symlink: a regular file, fifo, socket or device.
/// The new inode is owned by the caller (its group is the parent's when the parent is setgid).
public struct CreateRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    public var kind: InodeKind
    public var permissions: UInt32
    public var rdev: UInt64
    /// O_EXCL: fail with EEXIST if the name exists; otherwise an existing regular file is
    /// returned as it is (open with O_CREAT).
    public var exclusive: Bool
    public var caller: MetaCaller
    /// Also open the regular file for this client session (held as `openFile` holds it), and
    /// answer with its open state: a created file costs one round trip, not two. Nil: no open.
    /// Sent last and only when set, so a request without it reads as before.
    public var openSession: UInt64?

    public init(
        parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64 = 0, exclusive: Bool,
        caller: MetaCaller, openSession: UInt64? = nil
    ) {
        self.parent = parent
        self.name = name
        self.kind = kind
        self.permissions = permissions
        self.rdev = rdev
        self.exclusive = exclusive
        self.caller = caller
        self.openSession = openSession
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(parent)
        buffer.writeMetaName(name)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(permissions)
        buffer.writeInteger(rdev)
        buffer.writeWireBool(exclusive)
        caller.encode(into: &buffer)
        if let openSession { buffer.writeInteger(openSession) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        kind = try InodeKind.read(from: &buffer)
        permissions = try buffer.readWireInteger()
        rdev = try buffer.readWireInteger()
        exclusive = try buffer.readWireBool()
        caller = try MetaCaller(from: &buffer)
        openSession = buffer.readableBytes > 0 ? try buffer.readWireInteger() : nil
    }
}

/// What `create` gives back: the inode and where its data goes, the directory's attributes
/// after the change (so the client's cache answers the kernel's next look at the directory),
/// and, when an open was asked for and the file is a placed regular file, its open state.
public struct CreateReply: WireMessage, Hashable {
    public var attributes: InodeAttributes
    /// False when a non-exclusive create found the file already there.
    public var created: Bool
    /// The file's bytes live in the inode until it outgrows the volume's inline threshold.
    public var isInline: Bool
    /// 0 for inodes that hold no data (fifos, devices) or when no volume exists yet.
    public var volumeID: UInt32
    public var groupID: UInt32
    /// The parent directory as the create left it.
    public var parent: InodeAttributes?
    /// The open state (`openFile`'s answer) when `CreateRequest.openSession` was set and the
    /// file could be opened in the same step; nil otherwise (the client then asks `openFile`).
    public var open: OpenFileReply?

    public init(
        attributes: InodeAttributes, created: Bool, isInline: Bool, volumeID: UInt32, groupID: UInt32,
        parent: InodeAttributes? = nil, open: OpenFileReply? = nil
    ) {
        self.attributes = attributes
        self.created = created
        self.isInline = isInline
        self.volumeID = volumeID
        self.groupID = groupID
        self.parent = parent
        self.open = open
    }

    public func encode(into buffer: inout ByteBuffer) {
        attributes.encode(into: &buffer)
        buffer.writeWireBool(created)
        buffer.writeWireBool(isInline)
        buffer.writeInteger(volumeID)
        buffer.writeInteger(groupID)
        buffer.writeWireOptional(parent) { $1.encode(into: &$0) }
        buffer.writeWireOptional(open) { $1.encode(into: &$0) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        attributes = try InodeAttributes(from: &buffer)
        created = try buffer.readWireBool()
        isInline = try buffer.readWireBool()
        volumeID = try buffer.readWireInteger()
        groupID = try buffer.readWireInteger()
        parent = buffer.readableBytes > 0 ? try buffer.readWireOptional { try InodeAttributes(from: &$0) } : nil
        open = buffer.readableBytes > 0 ? try buffer.readWireOptional { try OpenFileReply(from: &$0) } : nil
    }
}

public struct MakeDirectoryRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    public var permissions: UInt32
    public var caller: MetaCaller

    public init(parent: UInt64, name: FileName, permissions: UInt32, caller: MetaCaller) {
        self.parent = parent
        self.name = name
        self.permissions = permissions
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(parent)
        buffer.writeMetaName(name)
        buffer.writeInteger(permissions)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        permissions = try buffer.readWireInteger()
        caller = try MetaCaller(from: &buffer)
    }
}

public struct MakeSymbolicLinkRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    /// Any bytes but NUL, at most `MetaLimits.maximumSymbolicLinkLength`.
    public var target: [UInt8]
    public var caller: MetaCaller

    public init(parent: UInt64, name: FileName, target: [UInt8], caller: MetaCaller) {
        self.parent = parent
        self.name = name
        self.target = target
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(parent)
        buffer.writeMetaName(name)
        buffer.writeWireBytes(target)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        target = try buffer.readWireBytes(maximumLength: MetaLimits.maximumSymbolicLinkLength + 1)
        caller = try MetaCaller(from: &buffer)
    }
}

/// What `remove` and `rename` give back: the file whose last link went, when it had
/// fragments to delete, and (from `remove`) the directory's attributes after the removal, so
/// the client's cache answers the kernel's next look at the directory.
public struct RemovalReply: WireMessage, Hashable {
    public var removed: RemovedFile?
    public var parent: InodeAttributes?

    public init(removed: RemovedFile?, parent: InodeAttributes? = nil) {
        self.removed = removed
        self.parent = parent
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireOptional(removed) { $1.encode(into: &$0) }
        buffer.writeWireOptional(parent) { $1.encode(into: &$0) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        removed = try buffer.readWireOptional { try RemovedFile(from: &$0) }
        parent = buffer.readableBytes > 0 ? try buffer.readWireOptional { try InodeAttributes(from: &$0) } : nil
    }
}

public struct RenameRequest: WireMessage, Hashable {
    public var parent: UInt64
    public var name: FileName
    public var newParent: UInt64
    public var newName: FileName
    public var mode: MetaRenameMode
    public var caller: MetaCaller

    public init(parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: MetaRenameMode, caller: MetaCaller) {
        self.parent = parent
        self.name = name
        self.newParent = newParent
        self.newName = newName
        self.mode = mode
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(parent)
        buffer.writeMetaName(name)
        buffer.writeInteger(newParent)
        buffer.writeMetaName(newName)
        buffer.writeInteger(mode.rawValue)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        parent = try buffer.readWireInteger()
        name = try buffer.readMetaName()
        newParent = try buffer.readWireInteger()
        newName = try buffer.readMetaName()
        let rawMode = try buffer.readWireInteger(as: UInt8.self)
        guard let mode = MetaRenameMode(rawValue: rawMode) else { throw WireError.badRequest("unknown rename mode \(rawMode)") }
        self.mode = mode
        caller = try MetaCaller(from: &buffer)
    }
}

public struct LinkRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var newParent: UInt64
    public var newName: FileName
    public var caller: MetaCaller

    public init(inode: UInt64, newParent: UInt64, newName: FileName, caller: MetaCaller) {
        self.inode = inode
        self.newParent = newParent
        self.newName = newName
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(newParent)
        buffer.writeMetaName(newName)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        newParent = try buffer.readWireInteger()
        newName = try buffer.readMetaName()
        caller = try MetaCaller(from: &buffer)
    }
}

/// readdirplus: up to `limit` entries after `cookie` (0 = from the start, "." and ".." first).
public struct ReadDirectoryRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var cookie: UInt64
    public var limit: UInt32

    public init(inode: UInt64, after cookie: UInt64, limit: UInt32) {
        self.inode = inode
        self.cookie = cookie
        self.limit = limit
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(cookie)
        buffer.writeInteger(limit)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        cookie = try buffer.readWireInteger()
        limit = try buffer.readWireInteger()
    }
}

public struct DirectoryListing: WireMessage, Hashable {
    public var entries: [DirectoryEntry]
    public init(entries: [DirectoryEntry]) { self.entries = entries }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(entries) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws {
        entries = try buffer.readWireArray(maximumCount: MetaLimits.maximumDirectoryBatch) { try DirectoryEntry(from: &$0) }
    }
}

/// getxattr / removexattr (the caller matters only for remove).
public struct ExtendedAttributeRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var name: String
    public var caller: MetaCaller

    public init(inode: UInt64, name: String, caller: MetaCaller = .root) {
        self.inode = inode
        self.name = name
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeWireString(name)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        name = try buffer.readWireString(maximumLength: MetaLimits.maximumAttributeNameLength + 1)
        caller = try MetaCaller(from: &buffer)
    }
}

public struct SetExtendedAttributeRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var name: String
    public var value: [UInt8]
    /// XATTR_CREATE (1) fails if present, XATTR_REPLACE (2) fails if absent.
    public var flags: Int32
    public var caller: MetaCaller

    public init(inode: UInt64, name: String, value: [UInt8], flags: Int32, caller: MetaCaller) {
        self.inode = inode
        self.name = name
        self.value = value
        self.flags = flags
        self.caller = caller
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeWireString(name)
        buffer.writeWireBytes(value)
        buffer.writeInteger(flags)
        caller.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        name = try buffer.readWireString(maximumLength: MetaLimits.maximumAttributeNameLength + 1)
        value = try buffer.readWireBytes(maximumLength: MetaLimits.maximumAttributeValueLength + 1)
        flags = try buffer.readWireInteger()
        caller = try MetaCaller(from: &buffer)
    }
}

/// A reply carrying bytes: an extended attribute's value.
public struct BytesReply: WireMessage, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireBytes(bytes) }
    public init(from buffer: inout ByteBuffer) throws { bytes = try buffer.readWireBytes() }
}

public struct NameListReply: WireMessage, Hashable {
    public var names: [String]
    public init(_ names: [String]) { self.names = names }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(names) { $0.writeWireString($1) } }
    public init(from buffer: inout ByteBuffer) throws { names = try buffer.readWireArray { try $0.readWireString() } }
}
