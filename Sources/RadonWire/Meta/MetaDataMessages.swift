import NIOCore

// Requests and replies of the file-data bookkeeping: sizes after block writes, inline data,
// and the list of removed files whose fragments are still to be deleted.

/// After the client wrote blocks: the size grows to `size` if larger (never shrinks; shrinking
/// is `setAttributes` with a size), mtime/ctime become `modificationTime` (nil: now), and the
/// blocks written join the file's block map (st_blocks).
public struct UpdateSizeRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var size: UInt64
    public var modificationTime: Timestamp?
    public var writtenBlocks: [BlockRun]

    public init(inode: UInt64, size: UInt64, modificationTime: Timestamp? = nil, writtenBlocks: [BlockRun] = []) {
        self.inode = inode
        self.size = size
        self.modificationTime = modificationTime
        self.writtenBlocks = writtenBlocks
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(size)
        buffer.writeWireOptional(modificationTime) { $1.encode(into: &$0) }
        buffer.writeBlockRuns(writtenBlocks)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        size = try buffer.readWireInteger()
        modificationTime = try buffer.readWireOptional { try Timestamp(from: &$0) }
        writtenBlocks = try buffer.readBlockRuns()
    }
}

extension ByteBuffer {
    mutating func writeBlockRuns(_ runs: [BlockRun]) {
        writeWireArray(runs) { buffer, run in
            buffer.writeInteger(run.first)
            buffer.writeInteger(run.count)
        }
    }

    /// Runs as a request names them: none empty or past `BlockRun.maximumBlock`.
    mutating func readBlockRuns() throws -> [BlockRun] {
        try readWireArray(maximumCount: 1 << 20) { buffer in
            let run = BlockRun(first: try buffer.readWireInteger(), count: try buffer.readWireInteger())
            guard run.count > 0, run.first <= BlockRun.maximumBlock, run.count <= BlockRun.maximumBlock - run.first else {
                throw WireError.badRequest("block run \(run.first)+\(run.count) is empty or past block \(BlockRun.maximumBlock)")
            }
            return run
        }
    }
}

/// Consecutive blocks `first ..< first + count`.
public struct BlockRun: Sendable, Hashable {
    public var first: UInt64
    public var count: UInt64

    public init(first: UInt64, count: UInt64) {
        self.first = first
        self.count = count
    }

    /// No file has more blocks (2^32: 4 PiB at 1 MiB blocks): a bigger run is a malformed request.
    public static let maximumBlock: UInt64 = 1 << 32

    /// The runs covering `indices`, in order.
    public static func runs(of indices: some Sequence<UInt64>) -> [BlockRun] {
        var runs: [BlockRun] = []
        for index in Set(indices).sorted() {
            if let last = runs.last, last.first + last.count == index {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(BlockRun(first: index, count: 1))
            }
        }
        return runs
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
