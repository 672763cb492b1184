import NIOCore

/// `fileInventory`: a page of every file that has (or had) fragments, in inode order, for
/// `radonfs fsck` to compare with what the storage nodes hold. Operator only.
public typealias FileInventoryRequest = InodePageRequest

/// A page of a listing in inode order: `limit` entries after inode `after` (`fileInventory`,
/// `trashList`).
public struct InodePageRequest: WireMessage, Hashable {
    /// Entries with an inode above this one.
    public var after: UInt64
    public var limit: UInt32

    public init(after: UInt64, limit: UInt32) {
        self.after = after
        self.limit = limit
    }

    public func encode(into buffer: inout ByteBuffer) { buffer.writeMultipleIntegers(after, limit) }

    public init(from buffer: inout ByteBuffer) throws {
        after = try buffer.readWireInteger()
        limit = try buffer.readWireInteger()
    }
}

/// One file as the namespace knows it: where its fragments must be and how many blocks.
public struct FileInventoryEntry: Sendable, Hashable {
    public var inode: UInt64
    public var volumeID: UInt32
    public var groupID: UInt32
    public var size: UInt64
    public var blockSize: UInt32
    /// One past the last block ever written within the size (from the block map; every block
    /// up to the size for a file without one): each position must hold at least this many slots.
    public var writtenBlocks: UInt64
    /// Its bytes live in the inode: no fragment should exist.
    public var isInline: Bool
    /// Removed, its fragments queued for deletion (`pendingDeletions`): not an orphan.
    public var isAwaitingDeletion: Bool
    /// Open on some client now: blocks past the size may be a write not published yet.
    public var isOpen: Bool

    /// Slots up to the size: a position holding more keeps blocks past the end of the file.
    public var blocksWithinSize: UInt64 { Self.blocks(within: size, blockSize: blockSize) }

    /// Blocks of `blockSize` a file of `size` bytes spans (0 for no block size: no volume).
    public static func blocks(within size: UInt64, blockSize: UInt32) -> UInt64 {
        blockSize == 0 ? 0 : (size + UInt64(blockSize) - 1) / UInt64(blockSize)
    }

    public init(
        inode: UInt64, volumeID: UInt32, groupID: UInt32, size: UInt64, blockSize: UInt32, writtenBlocks: UInt64,
        isInline: Bool, isAwaitingDeletion: Bool, isOpen: Bool
    ) {
        self.inode = inode
        self.volumeID = volumeID
        self.groupID = groupID
        self.size = size
        self.blockSize = blockSize
        self.writtenBlocks = writtenBlocks
        self.isInline = isInline
        self.isAwaitingDeletion = isAwaitingDeletion
        self.isOpen = isOpen
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(inode, volumeID, groupID, size, blockSize, writtenBlocks)
        buffer.writeWireBool(isInline)
        buffer.writeWireBool(isAwaitingDeletion)
        buffer.writeWireBool(isOpen)
    }

    init(from buffer: inout ByteBuffer) throws {
        inode = try buffer.readWireInteger()
        volumeID = try buffer.readWireInteger()
        groupID = try buffer.readWireInteger()
        size = try buffer.readWireInteger()
        blockSize = try buffer.readWireInteger()
        writtenBlocks = try buffer.readWireInteger()
        isInline = try buffer.readWireBool()
        isAwaitingDeletion = try buffer.readWireBool()
        isOpen = try buffer.readWireBool()
    }
}

public struct FileInventoryReply: WireMessage, Hashable {
    public var entries: [FileInventoryEntry]
    /// The highest inode number in the namespace now: a fragment file of a higher inode that
    /// is not listed may belong to a newer database (a restore gone wrong), never to be deleted.
    public var highestInode: UInt64

    public init(entries: [FileInventoryEntry], highestInode: UInt64) {
        self.entries = entries
        self.highestInode = highestInode
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(entries) { $1.encode(into: &$0) }
        buffer.writeInteger(highestInode)
    }

    public init(from buffer: inout ByteBuffer) throws {
        entries = try buffer.readWireArray(maximumCount: 100_000) { try FileInventoryEntry(from: &$0) }
        highestInode = try buffer.readWireInteger()
    }
}
