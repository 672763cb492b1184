import NIOCore

/// The typed client of one storage daemon, over a (shared, multiplexed) `WireConnection`.
///
/// Every method throws `WireError`: the daemon's status (`.noSpace`, `.invalidArgument`, ...),
/// `.timedOut` or `.unavailable`. Large writes and reads are split into frames transparently.
public struct StorageClient: Sendable {
    public let connection: WireConnection
    public var timeout: Duration

    /// Payload budget of one request or reply, under `Frame.maximumPayloadLength` with room for headers.
    static let frameBudget = 16 * 1024 * 1024

    public init(connection: WireConnection, timeout: Duration = .seconds(30)) {
        self.connection = connection
        self.timeout = timeout
    }

    /// Stores `slots` in fragment file `g<group>/<inode>.<fragmentIndex>`; returns once every
    /// slot is durable (fsync'd). Slots that already held a newer version are left as they are
    /// and listed in the result; everything else was written.
    @discardableResult
    public func writeFragments(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32, slots: [FragmentSlotWrite]
    ) async throws -> [StaleSlot] {
        let file = FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex)
        var stale: [StaleSlot] = []
        var batch: [FragmentSlotWrite] = []
        var batchBytes = 0
        for slot in slots {
            let size = slot.bytes.readableBytes + 32
            if !batch.isEmpty, batchBytes + size > Self.frameBudget {
                stale += try await writeBatch(file: file, fragmentCapacity: fragmentCapacity, slots: batch)
                batch.removeAll(keepingCapacity: true)
                batchBytes = 0
            }
            batch.append(slot)
            batchBytes += size
        }
        if !batch.isEmpty || slots.isEmpty {
            stale += try await writeBatch(file: file, fragmentCapacity: fragmentCapacity, slots: batch)
        }
        return stale
    }

    /// Convenience for tuples, as the brief's callers write them; each slot's checksum is
    /// computed here, from the bytes given.
    @discardableResult
    public func writeFragments(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32,
        slots: [(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: [UInt8])]
    ) async throws -> [StaleSlot] {
        try await writeFragments(
            group: group, inode: inode, fragmentIndex: fragmentIndex, fragmentCapacity: fragmentCapacity,
            slots: slots.map { FragmentSlotWrite(blockIndex: $0.blockIndex, version: $0.version, effectiveLength: $0.effectiveLength, bytes: $0.bytes) }
        )
    }

    private func writeBatch(file: FragmentFileKey, fragmentCapacity: UInt32, slots: [FragmentSlotWrite]) async throws -> [StaleSlot] {
        try await send(WriteFragmentsRequest(file: file, fragmentCapacity: fragmentCapacity, slots: slots)).staleSlots
    }

    /// Writes one slot (a client's block write); with `keepPrevious` the daemon keeps the
    /// version it replaces until `dropPrevious`. The reply says which blocks have one kept, and
    /// whether the fsync was left to `syncFile` (`deferSync`; only for a slot that replaced no
    /// stored version).
    public func writeFragment(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32, slot: FragmentSlotWrite, keepPrevious: Bool,
        deferSync: Bool = false
    ) async throws -> WriteFragmentsReply {
        let file = FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex)
        return try await send(WriteFragmentsRequest(file: file, fragmentCapacity: fragmentCapacity, slots: [slot], keepPrevious: keepPrevious,
                                                    deferSync: deferSync))
    }

    /// fsyncs fragment file `g<group>/<inode>.<fragmentIndex>` (with its previous copies and its
    /// directory): every write to it whose fsync was deferred is durable once this returns, if
    /// the boot returned is the one those writes were answered under.
    public func syncFile(group: UInt32, inode: UInt64, fragmentIndex: UInt8) async throws -> UInt64 {
        let request = SyncFileRequest(file: FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex))
        let reply: SyncFileReply = try await connection.call(StorageOpcode.syncFile.rawValue, request, timeout: timeout)
        return reply.boot
    }

    /// Sends a write with its fragments as buffers of their own, not copied into the request.
    private func send(_ request: WriteFragmentsRequest) async throws -> WriteFragmentsReply {
        let (payload, fragmentBytesAndRest) = request.encodedParts(allocator: ByteBufferAllocator())
        return try WriteFragmentsReply(decoding: try await connection.call(
            opcode: StorageOpcode.writeFragments.rawValue, payload: payload, trailingPayload: fragmentBytesAndRest, timeout: timeout
        ))
    }

    /// The previous copies of slots (what unconfirmed overwrites replaced), one result per
    /// block asked for, `.missing` where none is kept; checksums as for `readFragments`.
    public func readPreviousFragments(group: UInt32, inode: UInt64, fragmentIndex: UInt8, blockIndices: [UInt64]) async throws -> [FragmentReadResult] {
        let request = ReadFragmentsRequest(file: FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex), blocks: .indices(blockIndices))
        let reply: ReadFragmentsReply = try await connection.call(StorageOpcode.readPreviousFragments.rawValue, request, timeout: timeout, abandonedOnCancel: true)
        return reply.results
    }

    /// Lets the daemon drop the previous copies older than the versions given (they are
    /// durable on enough nodes now).
    public func dropPrevious(group: UInt32, inode: UInt64, fragmentIndex: UInt8, slots: [(blockIndex: UInt64, version: UInt64)]) async throws {
        let request = DropPreviousRequest(file: FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex),
                                          slots: slots.map { StaleSlot(blockIndex: $0.blockIndex, storedVersion: $0.version) })
        let _: WireEmpty = try await connection.call(StorageOpcode.dropPrevious.rawValue, request, timeout: timeout)
    }

    /// Reads slots of one fragment file, one result per block asked for, in order. The daemon
    /// checks every slot's CRC32C: a bad slot comes back `.corrupt`, never as wrong bytes. The
    /// results are as received: a present fragment's checksum is the caller's to check
    /// (`StoredFragment.verified`), as late as it can, just before the bytes are used.
    /// - Parameters:
    ///   - fragmentCapacity: unused by the daemon (the file records its own); accepted so callers
    ///     can pass what they write with.
    ///   - includeBytes: false to learn only versions and health.
    public func readFragments(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32? = nil,
        blocks: BlockSelection, includeBytes: Bool = true
    ) async throws -> [FragmentReadResult] {
        let file = FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex)
        var results: [FragmentReadResult] = []
        results.reserveCapacity(blocks.count)
        var remaining = blocks
        while remaining.count > 0 {
            let request = ReadFragmentsRequest(file: file, blocks: remaining, includeBytes: includeBytes)
            let reply: ReadFragmentsReply = try await connection.call(StorageOpcode.readFragments.rawValue, request, timeout: timeout, abandonedOnCancel: true)
            guard !reply.results.isEmpty, reply.results.count <= remaining.count else {
                throw WireError(.internalError, "the daemon answered \(reply.results.count) of \(remaining.count) blocks")
            }
            results += reply.results
            remaining = remaining.dropping(reply.results.count)
        }
        return results
    }

    public func readFragments(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32? = nil, blockIndices: [UInt64]
    ) async throws -> [FragmentReadResult] {
        try await readFragments(group: group, inode: inode, fragmentIndex: fragmentIndex, blocks: .indices(blockIndices))
    }

    public func readFragments(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32? = nil, blockRange: Range<UInt64>
    ) async throws -> [FragmentReadResult] {
        try await readFragments(group: group, inode: inode, fragmentIndex: fragmentIndex, blocks: .range(blockRange))
    }

    /// Removes every fragment file of `inode` in `group`; returns how many there were.
    @discardableResult
    public func deleteFile(group: UInt32, inode: UInt64) async throws -> UInt32 {
        let reply: DeleteFileReply = try await connection.call(
            StorageOpcode.deleteFile.rawValue, DeleteFileRequest(group: group, inode: inode), timeout: timeout
        )
        return reply.removedFiles
    }

    /// Drops every slot from `blockCount` on, in every fragment file of `inode` in `group` (durably).
    public func truncate(group: UInt32, inode: UInt64, blockCount: UInt64) async throws {
        let _: WireEmpty = try await connection.call(
            StorageOpcode.truncate.rawValue, TruncateRequest(group: group, inode: inode, blockCount: blockCount), timeout: timeout
        )
    }

    /// Every fragment file of `group`, in (inode, fragment index) order.
    public func listFiles(group: UInt32) async throws -> [FragmentFileInfo] {
        var files: [FragmentFileInfo] = []
        var after: FragmentFileKey?
        while true {
            let reply: ListFilesReply = try await connection.call(
                StorageOpcode.listFiles.rawValue, ListFilesRequest(group: group, after: after, limit: 50_000), timeout: timeout
            )
            files += reply.files
            guard reply.hasMore, let last = reply.files.last else { return files }
            after = FragmentFileKey(group: group, inode: last.inode, fragmentIndex: last.fragmentIndex)
        }
    }

    /// The placement groups this daemon holds fragments of.
    public func listGroups() async throws -> [UInt32] {
        let reply: ListGroupsReply = try await connection.call(StorageOpcode.listGroups.rawValue, WireEmpty(), timeout: timeout)
        return reply.groups
    }

    /// Capacity, free space and counts of the daemon.
    public func nodeStatus() async throws -> StorageNodeStatus {
        try await connection.call(StorageOpcode.nodeStatus.rawValue, WireEmpty(), timeout: timeout)
    }

    /// A round trip to the daemon (answered by its wire layer).
    public func ping() async throws {
        try await connection.ping(timeout: timeout)
    }
}

extension BlockSelection {
    /// The selection without its first `count` blocks.
    func dropping(_ count: Int) -> BlockSelection {
        switch self {
        case let .range(range): .range(range.lowerBound + UInt64(count)..<range.upperBound)
        case let .indices(indices): .indices(Array(indices.dropFirst(count)))
        }
    }
}
