import NIOCore

/// A directory's quota and what its subtree uses: every file, directory and symbolic link below
/// it counts as one file, every regular file's size (per name, so a hard link counts twice)
/// as bytes. A limit of 0 is none.
public struct DirectoryQuota: Sendable, Hashable, Codable {
    public var inode: UInt64
    public var maximumBytes: UInt64
    public var maximumFiles: UInt64
    public var usedBytes: UInt64
    public var usedFiles: UInt64
    /// Where the directory is now (empty when the service did not say).
    public var path: String

    public init(inode: UInt64, maximumBytes: UInt64, maximumFiles: UInt64, usedBytes: UInt64, usedFiles: UInt64, path: String = "") {
        self.inode = inode
        self.maximumBytes = maximumBytes
        self.maximumFiles = maximumFiles
        self.usedBytes = usedBytes
        self.usedFiles = usedFiles
        self.path = path
    }

    /// Bytes a file below may still grow by under this quota (`UInt64.max` without a byte limit).
    public var bytesLeft: UInt64 {
        maximumBytes == 0 ? .max : maximumBytes - min(usedBytes, maximumBytes)
    }
}

extension DirectoryQuota: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(inode, maximumBytes, maximumFiles, usedBytes, usedFiles)
        buffer.writeWireString(path)
    }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        maximumBytes = try buffer.readWireInteger()
        maximumFiles = try buffer.readWireInteger()
        usedBytes = try buffer.readWireInteger()
        usedFiles = try buffer.readWireInteger()
        path = try buffer.readWireString(maximumLength: 1 << 16)
    }
}

/// `quotaSet`: a directory's limits (both 0: the quota removed). The usage is counted afresh.
public struct QuotaSetRequest: WireMessage, Hashable {
    public var inode: UInt64
    public var maximumBytes: UInt64
    public var maximumFiles: UInt64

    public init(inode: UInt64, maximumBytes: UInt64, maximumFiles: UInt64) {
        self.inode = inode
        self.maximumBytes = maximumBytes
        self.maximumFiles = maximumFiles
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(inode, maximumBytes, maximumFiles) }

    public init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        maximumBytes = try buffer.readWireInteger()
        maximumFiles = try buffer.readWireInteger()
    }
}

public struct QuotaListReply: WireMessage, Hashable {
    public var quotas: [DirectoryQuota]

    public init(_ quotas: [DirectoryQuota]) { self.quotas = quotas }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(quotas) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { quotas = try buffer.readWireArray { try DirectoryQuota(from: &$0) } }
}

/// `quotaHeadroom`: how many bytes `inode` (a file) may still grow by under every quota above
/// it, from what the service knows now (`UInt64.max`: no byte quota above it).
public struct QuotaHeadroomReply: WireMessage, Hashable {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(bytes) }
    public init(from buffer: inout ByteBuffer) throws { bytes = try buffer.readWireInteger() }
}

/// `statistics`: of the whole file system, or (with an inode) as seen from that directory:
/// its nearest byte and file quotas stand for the size and the inode count, as `df` on a mount
/// of the directory shows them. An empty payload is the whole file system.
public struct StatisticsRequest: WireMessage, Hashable {
    public var inode: UInt64?

    public init(inode: UInt64? = nil) { self.inode = inode }

    public func encode(into buffer: inout ByteBuffer) { if let inode { buffer.writeInteger(inode) } }

    public init(from buffer: inout ByteBuffer) throws {
        inode = buffer.readableBytes >= 8 ? try buffer.readWireInteger() : nil
    }
}

extension MetaClient {
    public func setQuota(of inode: UInt64, maximumBytes: UInt64, maximumFiles: UInt64) async throws -> QuotaListReply {
        try await call(.quotaSet, QuotaSetRequest(inode: inode, maximumBytes: maximumBytes, maximumFiles: maximumFiles))
    }

    /// Every quota (inode 0), or the one on `inode`.
    public func quotas(of inode: UInt64 = 0) async throws -> [DirectoryQuota] {
        let reply: QuotaListReply = try await call(.quotaList, InodeRequest(inode: inode))
        return reply.quotas
    }

    public func quotaHeadroom(of inode: UInt64) async throws -> UInt64 {
        let reply: QuotaHeadroomReply = try await call(.quotaHeadroom, InodeRequest(inode: inode))
        return reply.bytes
    }

    public func statistics(of inode: UInt64) async throws -> FileSystemStatistics {
        try await call(.statistics, StatisticsRequest(inode: inode))
    }
}
