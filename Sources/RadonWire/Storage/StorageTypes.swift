import NIOCore
import RadonCodec

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
    /// CRC32C of `bytes`, computed where the fragment was made (right after encoding), so a bit
    /// flipped later (in the sender's memory, on the wire, in the daemon's buffers) is caught:
    /// the daemon checks it before writing anything and stores it in the slot header, and every
    /// reader checks the bytes against it again.
    public var checksum: UInt32

    public init(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: ByteBuffer, checksum: UInt32) {
        self.blockIndex = blockIndex
        self.version = version
        self.effectiveLength = effectiveLength
        self.bytes = bytes
        self.checksum = checksum
    }

    /// A slot whose checksum is `checksum`, or computed from `bytes` now when nil: pass it
    /// unless the bytes were made right here.
    public init(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: [UInt8], checksum: UInt32? = nil) {
        self.init(blockIndex: blockIndex, version: version, effectiveLength: effectiveLength, bytes: ByteBuffer(bytes: bytes),
                  checksum: checksum ?? CRC32C.checksum(bytes))
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
    /// A slot whose header and bytes passed their CRC32C checks on the daemon. `checksum` is
    /// the CRC32C of `bytes` as they left the daemon, for the reader to check on arrival: the
    /// slot's stored CRC (the writer's) when `bytes` is the whole fragment; for a range
    /// (`readFragmentRange`) the CRC32C of the range, computed by the daemon after it checked
    /// the whole slot; 0 (the CRC32C of nothing) when no bytes travel.
    case present(version: UInt64, effectiveLength: UInt32, bytes: ByteBuffer, checksum: UInt32)
    /// Never written (a hole, a block past the end, or no such file).
    case missing
    /// A slot that failed its checks (torn write, bit rot, or bytes that arrived damaged):
    /// its bytes are not served.
    case corrupt

    /// The version, when present.
    public var version: UInt64? {
        if case let .present(version, _, _, _) = self { version } else { nil }
    }

    /// This fragment as its reader must take it: `.corrupt` when its bytes do not match the
    /// checksum they came with (damaged after the daemon checked them), else unchanged.
    public var verified: StoredFragment {
        guard case let .present(_, _, bytes, checksum) = self else { return self }
        let actual = bytes.withUnsafeReadableBytes { CRC32C.checksum($0) }
        return actual == checksum ? self : .corrupt
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
