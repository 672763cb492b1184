import NIOCore

/// Where one fragment file lives: placement group, file (inode) and fragment index.
public struct FragmentFileKey: Sendable, Hashable, CustomStringConvertible {
    public var group: UInt32
    public var inode: UInt64
    public var fragmentIndex: UInt8

    public init(group: UInt32, inode: UInt64, fragmentIndex: UInt8) {
        self.group = group
        self.inode = inode
        self.fragmentIndex = fragmentIndex
    }

    public var description: String { "g\(group)/\(inode).\(fragmentIndex)" }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(group, inode, fragmentIndex)
    }

    init(from buffer: inout ByteBuffer) throws {
        guard let (group, inode, index) = buffer.readMultipleIntegers(as: (UInt32, UInt64, UInt8).self) else {
            throw WireError.truncated
        }
        self.init(group: group, inode: inode, fragmentIndex: index)
    }
}

/// `writeFragments`: slots of one fragment file, all fsync'd before the reply, unless the
/// sender lets the daemon defer the fsync of slots that replace no stored version
/// (`deferSync`, answered with `WriteFragmentsReply.syncDeferred`) until `syncFile`.
///
/// Each slot carries the CRC32C its sender computed where the fragment was made; the daemon
/// checks every one before writing anything, and refuses the whole request with `.corrupt`
/// when one does not match (nothing of it is written).
public struct WriteFragmentsRequest: WireMessage {
    public var file: FragmentFileKey
    /// The size of every slot's fragment area in this file; fixed when the file is created.
    public var fragmentCapacity: UInt32
    public var slots: [FragmentSlotWrite]
    /// Keep the version each slot held until the client confirms the new one (a client's
    /// overwrite); false for writes of a version already known decodable (repair, healing).
    public var keepPrevious: Bool
    /// The daemon may leave the fsync to a later `syncFile` when no slot of the request
    /// replaces a stored version: new data, which POSIX makes durable only at fsync (the client
    /// syncs at fsync and close). A write that replaces a stored version is fsync'd before the
    /// reply either way, so a crash of the host never costs data that was durable before.
    public var deferSync: Bool

    public init(file: FragmentFileKey, fragmentCapacity: UInt32, slots: [FragmentSlotWrite], keepPrevious: Bool = false, deferSync: Bool = false) {
        self.file = file
        self.fragmentCapacity = fragmentCapacity
        self.slots = slots
        self.keepPrevious = keepPrevious
        self.deferSync = deferSync
    }

    public func encode(into buffer: inout ByteBuffer) {
        parts(allocator: ByteBufferAllocator()).write(into: &buffer)
    }

    /// The bytes `encode(into:)` writes, as buffers to send one after another: the fields in
    /// small buffers of their own, each slot's fragment bytes as the caller's buffer itself, so
    /// megabytes of fragments are not copied into the request (`WireConnection.call`'s
    /// `trailingPayload`).
    public func encodedParts(allocator: ByteBufferAllocator) -> (payload: ByteBuffer, trailingPayload: [ByteBuffer]) {
        parts(allocator: allocator).finished()
    }

    /// The request's one definition on the wire.
    private func parts(allocator: ByteBufferAllocator) -> WireParts {
        var parts = WireParts(allocator: allocator)
        file.encode(into: &parts.fields)
        parts.fields.writeInteger(fragmentCapacity)
        parts.fields.writeInteger(UInt32(slots.count))
        for slot in slots {
            parts.fields.writeMultipleIntegers(slot.blockIndex, slot.version, slot.effectiveLength, slot.checksum)
            parts.appendWireBytes(slot.bytes)
        }
        parts.fields.writeWireBool(keepPrevious)
        parts.fields.writeWireBool(deferSync)
        return parts
    }

    public init(from buffer: inout ByteBuffer) throws {
        file = try FragmentFileKey(from: &buffer)
        let capacity: UInt32 = try buffer.readWireInteger()
        fragmentCapacity = capacity
        slots = try buffer.readWireArray { buffer in
            guard let (block, version, length, checksum) = buffer.readMultipleIntegers(as: (UInt64, UInt64, UInt32, UInt32).self) else {
                throw WireError.truncated
            }
            let bytes = try buffer.readWireBuffer()
            return FragmentSlotWrite(blockIndex: block, version: version, effectiveLength: length, bytes: bytes, checksum: checksum)
        }
        keepPrevious = try buffer.readWireBool()
        deferSync = try buffer.readWireBool()
    }
}

/// The reply to `writeFragments`: the slots kept because they held a newer version, the
/// blocks whose previous version is kept beside the new one (`keepPrevious`), and whether the
/// fsync was left to a `syncFile` (`deferSync`), with the boot the page cache holding the
/// slots belongs to.
public struct WriteFragmentsReply: WireMessage, Hashable {
    public var staleSlots: [StaleSlot]
    public var blocksWithPrevious: [UInt64]
    /// The slots are in the daemon's page cache, not yet fsync'd: a `syncFile` answered under
    /// the same `boot` makes them durable.
    public var syncDeferred: Bool
    /// The daemon's host boot (`HostBoot`): a page cache lost in a reboot shows as another one.
    public var boot: UInt64

    public init(staleSlots: [StaleSlot], blocksWithPrevious: [UInt64] = [], syncDeferred: Bool = false, boot: UInt64 = 0) {
        self.staleSlots = staleSlots
        self.blocksWithPrevious = blocksWithPrevious
        self.syncDeferred = syncDeferred
        self.boot = boot
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(staleSlots) { $0.writeMultipleIntegers($1.blockIndex, $1.storedVersion) }
        buffer.writeWireArray(blocksWithPrevious) { $0.writeInteger($1) }
        buffer.writeWireBool(syncDeferred)
        buffer.writeInteger(boot)
    }

    public init(from buffer: inout ByteBuffer) throws {
        staleSlots = try buffer.readWireArray { buffer in
            guard let (block, version) = buffer.readMultipleIntegers(as: (UInt64, UInt64).self) else { throw WireError.truncated }
            return StaleSlot(blockIndex: block, storedVersion: version)
        }
        blocksWithPrevious = try buffer.readWireArray { try $0.readWireInteger() }
        syncDeferred = try buffer.readWireBool()
        boot = try buffer.readWireInteger()
    }
}

/// `syncFile`: fsync one fragment file, its previous copies and its group directory, making
/// every write whose fsync was deferred durable. The reply names the host boot, so a sender
/// whose deferred writes were answered under another one knows they may be gone.
public struct SyncFileRequest: WireMessage, Hashable {
    public var file: FragmentFileKey

    public init(file: FragmentFileKey) {
        self.file = file
    }

    public func encode(into buffer: inout ByteBuffer) {
        file.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        file = try FragmentFileKey(from: &buffer)
    }
}

/// The reply to `syncFile`: the host boot the fsync ran under (`HostBoot`).
public struct SyncFileReply: WireMessage, Hashable {
    public var boot: UInt64

    public init(boot: UInt64) {
        self.boot = boot
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(boot)
    }

    public init(from buffer: inout ByteBuffer) throws {
        boot = try buffer.readWireInteger()
    }
}

/// `dropPrevious`: the client's write of these versions is durable on enough nodes; previous
/// copies older than them may go. Answered with an empty reply.
public struct DropPreviousRequest: WireMessage, Hashable {
    public var file: FragmentFileKey
    /// (block, the version now durable).
    public var slots: [StaleSlot]

    public init(file: FragmentFileKey, slots: [StaleSlot]) {
        self.file = file
        self.slots = slots
    }

    public func encode(into buffer: inout ByteBuffer) {
        file.encode(into: &buffer)
        buffer.writeWireArray(slots) { $0.writeMultipleIntegers($1.blockIndex, $1.storedVersion) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        file = try FragmentFileKey(from: &buffer)
        slots = try buffer.readWireArray { buffer in
            guard let (block, version) = buffer.readMultipleIntegers(as: (UInt64, UInt64).self) else { throw WireError.truncated }
            return StaleSlot(blockIndex: block, storedVersion: version)
        }
    }
}

/// `readFragments`: some slots of one fragment file, CRC-checked by the daemon.
public struct ReadFragmentsRequest: WireMessage, Hashable {
    public var file: FragmentFileKey
    public var blocks: BlockSelection
    /// False to learn versions and health only (scrub, rebuild planning): no bytes travel.
    public var includeBytes: Bool

    public init(file: FragmentFileKey, blocks: BlockSelection, includeBytes: Bool = true) {
        self.file = file
        self.blocks = blocks
        self.includeBytes = includeBytes
    }

    public func encode(into buffer: inout ByteBuffer) {
        file.encode(into: &buffer)
        buffer.writeWireBool(includeBytes)
        switch blocks {
        case let .range(range):
            buffer.writeMultipleIntegers(UInt8(0), range.lowerBound, range.upperBound)
        case let .indices(indices):
            buffer.writeInteger(UInt8(1))
            buffer.writeWireArray(indices) { $0.writeInteger($1) }
        }
    }

    public init(from buffer: inout ByteBuffer) throws {
        file = try FragmentFileKey(from: &buffer)
        includeBytes = try buffer.readWireBool()
        switch try buffer.readWireInteger(as: UInt8.self) {
        case 0:
            let (lower, upper): (UInt64, UInt64) = (try buffer.readWireInteger(), try buffer.readWireInteger())
            guard lower <= upper else { throw WireError(.badRequest, "block range \(lower)..<\(upper) is reversed") }
            blocks = .range(lower..<upper)
        case 1:
            blocks = .indices(try buffer.readWireArray { try $0.readWireInteger() })
        case let other:
            throw WireError(.badRequest, "unknown block selection \(other)")
        }
    }
}

/// The reply to `readFragments`: one result per block asked for, in the order asked. A reply
/// may stop early (it is bounded to fit a frame); the client asks again for the rest. Each
/// present fragment carries the CRC32C of its bytes (see `StoredFragment.present`), which the
/// reader checks on arrival.
public struct ReadFragmentsReply: WireMessage, Equatable {
    public var results: [FragmentReadResult]

    public init(results: [FragmentReadResult]) {
        self.results = results
    }

    public func encode(into buffer: inout ByteBuffer) {
        parts(allocator: ByteBufferAllocator()).write(into: &buffer)
    }

    /// The bytes `encode(into:)` writes, as buffers to send one after another: the fields in
    /// small buffers, each present fragment's bytes as the buffer it was read into (a reply's
    /// `WireResponse.trailingPayload`).
    public func encodedParts(allocator: ByteBufferAllocator) -> (payload: ByteBuffer, trailingPayload: [ByteBuffer]) {
        parts(allocator: allocator).finished()
    }

    /// The reply's one definition on the wire.
    private func parts(allocator: ByteBufferAllocator) -> WireParts {
        var parts = WireParts(allocator: allocator)
        parts.fields.writeInteger(UInt32(results.count))
        for result in results {
            parts.fields.writeInteger(result.blockIndex)
            switch result.fragment {
            case let .present(version, effectiveLength, bytes, checksum):
                parts.fields.writeMultipleIntegers(UInt8(0), version, effectiveLength, checksum)
                parts.appendWireBytes(bytes)
            case .missing:
                parts.fields.writeInteger(UInt8(1))
            case .corrupt:
                parts.fields.writeInteger(UInt8(2))
            }
        }
        return parts
    }

    public init(from buffer: inout ByteBuffer) throws {
        results = try buffer.readWireArray { buffer in
            let block: UInt64 = try buffer.readWireInteger()
            switch try buffer.readWireInteger(as: UInt8.self) {
            case 0:
                let version: UInt64 = try buffer.readWireInteger()
                let length: UInt32 = try buffer.readWireInteger()
                let checksum: UInt32 = try buffer.readWireInteger()
                let bytes = try buffer.readWireBuffer()
                return FragmentReadResult(
                    blockIndex: block, fragment: .present(version: version, effectiveLength: length, bytes: bytes, checksum: checksum))
            case 1:
                return FragmentReadResult(blockIndex: block, fragment: .missing)
            case 2:
                return FragmentReadResult(blockIndex: block, fragment: .corrupt)
            case let other:
                throw WireError(.badRequest, "unknown fragment state \(other)")
            }
        }
    }
}

/// `deleteFile`: every fragment file of an inode in a group.
public struct DeleteFileRequest: WireMessage, Hashable {
    public var group: UInt32
    public var inode: UInt64

    public init(group: UInt32, inode: UInt64) {
        self.group = group
        self.inode = inode
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(group, inode) }

    public init(from buffer: inout ByteBuffer) throws {
        group = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
    }
}

/// The reply to `deleteFile`: how many fragment files were removed (0 when there were none).
public struct DeleteFileReply: WireMessage, Hashable {
    public var removedFiles: UInt32

    public init(removedFiles: UInt32) { self.removedFiles = removedFiles }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(removedFiles) }
    public init(from buffer: inout ByteBuffer) throws { removedFiles = try buffer.readWireInteger() }
}

/// `truncate`: drops every slot from `blockCount` on, in every fragment file of the inode.
public struct TruncateRequest: WireMessage, Hashable {
    public var group: UInt32
    public var inode: UInt64
    public var blockCount: UInt64

    public init(group: UInt32, inode: UInt64, blockCount: UInt64) {
        self.group = group
        self.inode = inode
        self.blockCount = blockCount
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(group, inode, blockCount) }

    public init(from buffer: inout ByteBuffer) throws {
        group = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        blockCount = try buffer.readWireInteger()
    }
}

/// `listFiles`: the fragment files of a group in (inode, fragment index) order, a page at a time.
public struct ListFilesRequest: WireMessage, Hashable {
    public var group: UInt32
    /// Start after this file (exclusive); nil for the first page.
    public var after: FragmentFileKey?
    public var limit: UInt32

    public init(group: UInt32, after: FragmentFileKey?, limit: UInt32) {
        self.group = group
        self.after = after
        self.limit = limit
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(group)
        buffer.writeWireOptional(after) { $1.encode(into: &$0) }
        buffer.writeInteger(limit)
    }

    public init(from buffer: inout ByteBuffer) throws {
        group = try buffer.readWireInteger()
        after = try buffer.readWireOptional { try FragmentFileKey(from: &$0) }
        limit = try buffer.readWireInteger()
    }
}

public struct ListFilesReply: WireMessage, Hashable {
    public var files: [FragmentFileInfo]
    /// Whether more files follow the last one listed.
    public var hasMore: Bool

    public init(files: [FragmentFileInfo], hasMore: Bool) {
        self.files = files
        self.hasMore = hasMore
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(files) { $0.writeMultipleIntegers($1.inode, $1.fragmentIndex, $1.blockCount, $1.fragmentCapacity) }
        buffer.writeWireBool(hasMore)
    }

    public init(from buffer: inout ByteBuffer) throws {
        files = try buffer.readWireArray { buffer in
            guard let (inode, index, count, capacity) = buffer.readMultipleIntegers(as: (UInt64, UInt8, UInt64, UInt32).self) else {
                throw WireError.truncated
            }
            return FragmentFileInfo(inode: inode, fragmentIndex: index, blockCount: count, fragmentCapacity: capacity)
        }
        hasMore = try buffer.readWireBool()
    }
}

public struct ListGroupsReply: WireMessage, Hashable {
    public var groups: [UInt32]

    public init(groups: [UInt32]) { self.groups = groups }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(groups) { $0.writeInteger($1) } }
    public init(from buffer: inout ByteBuffer) throws { groups = try buffer.readWireArray { try $0.readWireInteger() } }
}

extension StorageNodeStatus: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(capacityBytes, freeBytes, fragmentFileCount, groupCount, uptimeSeconds)
    }

    public init(from buffer: inout ByteBuffer) throws {
        guard let (capacity, free, files, groups, uptime) = buffer.readMultipleIntegers(as: (UInt64, UInt64, UInt64, UInt32, UInt64).self) else {
            throw WireError.truncated
        }
        self.init(capacityBytes: capacity, freeBytes: free, fragmentFileCount: files, groupCount: groups, uptimeSeconds: uptime)
    }
}
