extension MetaClient {
    /// Where a regular file's blocks live: its volume (codec, k, n, block size), group, the
    /// group's members with addresses, and the map epoch.
    public func fileLayout(of inode: UInt64) async throws -> FileLayout {
        try await call(.fileLayout, InodeRequest(inode: inode))
    }

    /// After writing blocks up to `size`: grows the file to it (never shrinks) and sets mtime
    /// (nil: the service's now) and ctime.
    public func updateSizeAfterWrite(_ inode: UInt64, size: UInt64, modificationTime: Timestamp? = nil, writtenBlocks: [BlockRun] = []) async throws -> InodeAttributes {
        try await call(.updateSizeAfterWrite, UpdateSizeRequest(inode: inode, size: size, modificationTime: modificationTime, writtenBlocks: writtenBlocks))
    }

    /// The bytes of an inline file (`isInline` false: read its blocks instead).
    public func readInline(of inode: UInt64) async throws -> InlineDataReply {
        try await call(.readInline, InodeRequest(inode: inode))
    }

    /// Writes into an inline file; `stored` false when it is not inline or would outgrow the
    /// volume's threshold (then `clearInline` and write blocks). With `truncate` the file ends
    /// where the write ends (`offset: 0, truncate: true` replaces the whole content).
    public func writeInline(_ inode: UInt64, offset: UInt64, bytes: [UInt8], truncate: Bool = false) async throws -> WriteInlineReply {
        try await call(.writeInline, WriteInlineRequest(inode: inode, offset: offset, bytes: bytes, truncate: truncate))
    }

    /// Moves a file out of its inode: returns the bytes it held, to be written as blocks.
    public func clearInline(of inode: UInt64) async throws -> InlineDataReply {
        try await call(.clearInline, InodeRequest(inode: inode))
    }

    /// Removed files whose fragments are still to be deleted, oldest first.
    public func pendingDeletions(limit: Int = 1024) async throws -> [RemovedFile] {
        let reply: RemovedFilesReply = try await call(.pendingDeletions, LimitRequest(limit: UInt32(clamping: max(limit, 0))))
        return reply.files
    }

    /// The fragments of these removed files are gone: forget them.
    public func confirmDeletions(_ inodes: [UInt64]) async throws {
        let _: WireEmpty = try await call(.confirmDeletions, ConfirmDeletionsRequest(inodes: inodes))
    }
}
