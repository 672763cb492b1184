import RadonCodec

/// The CRC32C of every 4 KiB chunk of a slot's fragment, kept at the end of the slot (after
/// the fragment's full capacity) in fragment files of format 2.
///
/// Why: a 4 KiB random read needs a few KiB of one data fragment, but the slot header's CRC
/// covers the whole fragment (256 KiB with 1 MiB blocks and 4+2), so checking it meant reading
/// and checksumming the whole slot per read. With the table a range read reads and checks only
/// the chunks it covers (`FragmentStore.readRange`).
///
/// Layout, big-endian: block version (u64), fragment byte count (u32), one CRC32C per chunk of
/// the byte count (u32 each, the last chunk possibly short), CRC32C of everything before it
/// (u32). The room reserved is for a fragment of the file's full capacity.
///
/// Invariants: a table vouches for a slot only when its own CRC checks and its version and
/// byte count are the slot header's; anything else (a crash between the slot's write and its
/// table's, rot in the table) makes a range read fall back to the whole slot and its header
/// CRC, so a stale or damaged table can cost speed, never serve wrong bytes. The chunk CRCs
/// are computed by the daemon from bytes whose whole-fragment CRC (the sender's) it has just
/// checked.
struct SlotChunkTable: Equatable {
    var version: UInt64
    var byteCount: UInt32
    var checksums: [UInt32]

    static let chunkSize = 4096
    private static let fixedLength = 8 + 4 + 4

    /// The room a table takes in a slot whose fragment holds at most `capacity` bytes.
    static func length(forCapacity capacity: Int) -> Int {
        fixedLength + 4 * chunkCount(of: capacity)
    }

    /// How many chunks `byteCount` bytes make.
    static func chunkCount(of byteCount: Int) -> Int {
        (byteCount + chunkSize - 1) / chunkSize
    }

    /// The table of `fragment`'s chunks, for the slot of `version`.
    init(version: UInt64, fragment: UnsafeRawBufferPointer) {
        self.version = version
        self.byteCount = UInt32(fragment.count)
        self.checksums = stride(from: 0, to: fragment.count, by: Self.chunkSize).map { start in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: fragment[start..<min(start + Self.chunkSize, fragment.count)]))
        }
    }

    /// The encoded table: `8 + 4 + 4 * checksums.count + 4` bytes.
    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.fixedLength + 4 * checksums.count)
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        put(version)
        put(byteCount)
        for checksum in checksums { put(checksum) }
        put(CRC32C.checksum(bytes))
        return bytes
    }

    /// Decodes a table from the start of `bytes`; nil when it is not a valid one (its CRC fails,
    /// or its byte count does not fit in `bytes`).
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.fixedLength else { return nil }
        func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        let byteCount = get(8, UInt32.self)
        let count = Self.chunkCount(of: Int(byteCount))
        let end = 12 + 4 * count
        guard end + 4 <= bytes.count,
              get(end, UInt32.self) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        else { return nil }
        self.version = get(0, UInt64.self)
        self.byteCount = byteCount
        self.checksums = (0..<count).map { get(12 + 4 * $0, UInt32.self) }
    }
}
