import NIOCore

// Requests and replies of the file-data bookkeeping: sizes after block writes, inline data,
// and the list of removed files whose fragments are still to be deleted.

/// After the client wrote blocks: the size grows to `size` if larger (never shrinks; shrinking
/// is `setAttributes` with a size), and mtime/ctime become `modificationTime` (nil: now).
public struct UpdateSizeRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var size: UInt64
    public var modificationTime: Timestamp?

    public init(inode: UInt64, size: UInt64, modificationTime: Timestamp? = nil) {
        self.inode = inode
        self.size = size
        self.modificationTime = modificationTime
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(size)
        buffer.writeWireOptional(modificationTime) { $1.encode(into: &$0) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        size = try buffer.readWireInteger()
        modificationTime = try buffer.readWireOptional { try Timestamp(from: &$0) }
    }
}

/// A file's inline bytes (readInline), or the bytes it held when moved out (clearInline).
public struct InlineDataReply: WireMessage, Hashable {
    /// False when the file's data is in fragments; `bytes` is then empty.
    public var isInline: Bool
    public var bytes: [UInt8]

    public init(isInline: Bool, bytes: [UInt8]) {
        self.isInline = isInline
        self.bytes = bytes
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireBool(isInline)
        buffer.writeWireBytes(bytes)
    }

    public init(from buffer: inout ByteBuffer) throws {
        isInline = try buffer.readWireBool()
        bytes = try buffer.readWireBytes(maximumLength: Int(MetaLimits.maximumInlineThreshold))
    }
}

/// Writes bytes into an inline file at `offset` (a gap reads as zeros).
public struct WriteInlineRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var offset: UInt64
    public var bytes: [UInt8]
    /// The file ends where this write ends (its old bytes beyond are dropped): a client that
    /// keeps a small file whole in memory replaces it in one call.
    public var truncate: Bool

    public init(inode: UInt64, offset: UInt64, bytes: [UInt8], truncate: Bool = false) {
        self.inode = inode
        self.offset = offset
        self.bytes = bytes
        self.truncate = truncate
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(offset)
        buffer.writeWireBytes(bytes)
        buffer.writeWireBool(truncate)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        offset = try buffer.readWireInteger()
        bytes = try buffer.readWireBytes(maximumLength: Int(MetaLimits.maximumInlineThreshold))
        truncate = try buffer.readWireBool()
    }
}

/// What `writeInline` did: stored the bytes (and the new attributes), or refused because the
/// file is not inline or would outgrow the threshold; then the client calls `clearInline`
/// and writes blocks instead.
public struct WriteInlineReply: WireMessage, Hashable {
    public var stored: Bool
    public var attributes: InodeAttributes

    public init(stored: Bool, attributes: InodeAttributes) {
        self.stored = stored
        self.attributes = attributes
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireBool(stored)
        attributes.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        stored = try buffer.readWireBool()
        attributes = try InodeAttributes(from: &buffer)
    }
}

/// A count: how many removed files to list at most.
public struct LimitRequest: WireMessage, Hashable {
    public var limit: UInt32
    public init(limit: UInt32) { self.limit = limit }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(limit) }
    public init(from buffer: inout ByteBuffer) throws { limit = try buffer.readWireInteger() }
}

public struct RemovedFilesReply: WireMessage, Hashable {
    public var files: [RemovedFile]
    public init(_ files: [RemovedFile]) { self.files = files }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(files) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { files = try buffer.readWireArray { try RemovedFile(from: &$0) } }
}

/// Inodes whose fragments have been deleted: the service forgets them.
public struct ConfirmDeletionsRequest: WireMessage, Hashable {
    public var inodes: [UInt64]
    public init(inodes: [UInt64]) { self.inodes = inodes }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(inodes) { $0.writeInteger($1) } }
    public init(from buffer: inout ByteBuffer) throws { inodes = try buffer.readWireArray(maximumCount: 65536) { try $0.readWireInteger() } }
}
