import NIOCore

/// One block's fragment to store: what goes into slot `blockIndex` of a fragment file.
public struct FragmentSlotWrite: Sendable {
    public var blockIndex: UInt64
    /// The block's write generation; a slot never goes back to an older one.
    public var version: UInt64
    /// The bytes of the file the block holds (the last block of a file is short); the daemon
    /// keeps it for the reader, it does not interpret it.
    public var effectiveLength: UInt32
    /// The fragment; at most the file's fragment capacity.
    public var bytes: ByteBuffer

    public init(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: ByteBuffer) {
        self.blockIndex = blockIndex
        self.version = version
        self.effectiveLength = effectiveLength
        self.bytes = bytes
    }

    public init(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: [UInt8]) {
        self.init(blockIndex: blockIndex, version: version, effectiveLength: effectiveLength, bytes: ByteBuffer(bytes: bytes))
    }
}

/// A slot the daemon kept because it already held a newer version than the one sent.
public struct StaleSlot: Sendable, Hashable {
    public var blockIndex: UInt64
    /// The version on disk, newer than the one sent.
    public var storedVersion: UInt64

    public init(blockIndex: UInt64, storedVersion: UInt64) {
        self.blockIndex = blockIndex
        self.storedVersion = storedVersion
    }
}

/// What a slot holds, as the daemon found it.
public enum StoredFragment: Sendable, Equatable {
    /// A slot whose header and bytes passed their CRC32C checks.
    case present(version: UInt64, effectiveLength: UInt32, bytes: ByteBuffer)
    /// Never written (a hole, a block past the end, or no such file).
    case missing
    /// A slot that failed its checks (torn write, bit rot): its bytes are not served.
    case corrupt

    /// The version, when present.
    public var version: UInt64? {
        if case let .present(version, _, _) = self { version } else { nil }
    }
}

/// One block of a read reply.
public struct FragmentReadResult: Sendable, Equatable {
    public var blockIndex: UInt64
    public var fragment: StoredFragment

    public init(blockIndex: UInt64, fragment: StoredFragment) {
        self.blockIndex = blockIndex
        self.fragment = fragment
    }
}

/// The blocks a read asks for.
public enum BlockSelection: Sendable, Hashable {
    case range(Range<UInt64>)
    case indices([UInt64])

    public var count: Int {
        switch self {
        case let .range(range): Int(clamping: range.count)
        case let .indices(indices): indices.count
        }
    }
}

/// A fragment file as listed for rebuild and scrub.
public struct FragmentFileInfo: Sendable, Hashable {
    public var inode: UInt64
    public var fragmentIndex: UInt8
    /// Slots the file has room for (written or holes): the highest block written, plus one.
    public var blockCount: UInt64
    public var fragmentCapacity: UInt32

    public init(inode: UInt64, fragmentIndex: UInt8, blockCount: UInt64, fragmentCapacity: UInt32) {
        self.inode = inode
        self.fragmentIndex = fragmentIndex
        self.blockCount = blockCount
        self.fragmentCapacity = fragmentCapacity
    }
}

/// What a storage daemon reports of itself.
public struct StorageNodeStatus: Sendable, Hashable {
    /// Size of the file system holding the data directory.
    public var capacityBytes: UInt64
    /// Bytes an unprivileged writer may still use there.
    public var freeBytes: UInt64
    public var fragmentFileCount: UInt64
    public var groupCount: UInt32
    public var uptimeSeconds: UInt64

    public init(capacityBytes: UInt64, freeBytes: UInt64, fragmentFileCount: UInt64, groupCount: UInt32, uptimeSeconds: UInt64) {
        self.capacityBytes = capacityBytes
        self.freeBytes = freeBytes
        self.fragmentFileCount = fragmentFileCount
        self.groupCount = groupCount
        self.uptimeSeconds = uptimeSeconds
    }
}
