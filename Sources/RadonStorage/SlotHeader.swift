import RadonCodec

/// The 32-byte header in front of every fragment slot.
///
/// Layout, big-endian: magic `RSLT` (u32), fragment index (u8), flags (u8, 0), reserved (u16, 0),
/// block version (u64), effective length (u32), fragment byte count (u32), CRC32C of the fragment
/// bytes (u32), CRC32C of the 28 bytes before it (u32). A slot of zeros is a hole (never
/// written); anything else that does not check out is corrupt. The fragment's CRC is the one its
/// writer computed beside the encoder and sent with it, checked against the bytes received
/// before the slot was written: stored, never recomputed, so a bit flipped on the way in fails
/// the write instead of being stored under a valid CRC.
struct SlotHeader: Equatable {
    var fragmentIndex: UInt8
    var version: UInt64
    var effectiveLength: UInt32
    var byteCount: UInt32
    var dataChecksum: UInt32

    static let length = 32
    static let magic: UInt32 = 0x5253_4C54  // "RSLT"

    /// What a slot's first bytes say about it.
    enum Decoded: Equatable {
        case hole
        case corrupt
        case valid(SlotHeader)
    }

    /// Writes the header at `pointer` (which must hold `length` bytes).
    func write(to pointer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { pointer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            offset += MemoryLayout<T>.size
        }
        put(Self.magic)
        put(fragmentIndex)
        put(UInt8(0))
        put(UInt16(0))
        put(version)
        put(effectiveLength)
        put(byteCount)
        put(dataChecksum)
        put(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: pointer[0..<28])))
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Decoded {
        guard bytes.count >= length else { return .corrupt }
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
        if header.allSatisfy({ $0 == 0 }) { return .hole }
        func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            T(bigEndian: header.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard get(0, UInt32.self) == magic,
              get(28, UInt32.self) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<28])),
              get(5, UInt8.self) == 0, get(6, UInt16.self) == 0
        else { return .corrupt }
        return .valid(SlotHeader(
            fragmentIndex: get(4, UInt8.self), version: get(8, UInt64.self), effectiveLength: get(16, UInt32.self),
            byteCount: get(20, UInt32.self), dataChecksum: get(24, UInt32.self)
        ))
    }
}

/// The 64-byte header at the start of every fragment file: which fragment file it is, the
/// fragment capacity of its slots and their format (so slot b sits at `length + b * slotSize`).
///
/// Layout, big-endian: magic `RFRG` (u32), format (u16), fragment index (u8), reserved (u8),
/// group (u32), inode (u64), fragment capacity (u32), 36 reserved zero bytes, CRC32C of the 60
/// bytes before it (u32).
///
/// Formats: 1, a slot is its header and the fragment's capacity; 2 (what new files get), the
/// same followed by the slot's `SlotChunkTable`. A file keeps the format it was created with
/// (`FragmentStore.ensureHeader`), so files written before format 2 stay readable and
/// writable; their range reads check the whole slot.
struct FragmentFileHeader: Equatable {
    var group: UInt32
    var inode: UInt64
    var fragmentIndex: UInt8
    var fragmentCapacity: UInt32
    var format: UInt16

    static let length = 64
    static let magic: UInt32 = 0x5246_5247  // "RFRG"
    /// Slots without a chunk table.
    static let formatWithoutChunkTables: UInt16 = 1
    /// Slots ending with a `SlotChunkTable`: what new files are made with.
    static let formatWithChunkTables: UInt16 = 2

    var hasChunkTables: Bool { format == Self.formatWithChunkTables }

    /// Where a slot's chunk table starts, from the slot's start.
    var chunkTableOffsetInSlot: Int { SlotHeader.length + Int(fragmentCapacity) }

    var slotSize: Int {
        SlotHeader.length + Int(fragmentCapacity) + (hasChunkTables ? SlotChunkTable.length(forCapacity: Int(fragmentCapacity)) : 0)
    }

    /// Where slot `blockIndex` starts, or nil past what a file offset can address.
    func offset(ofBlock blockIndex: UInt64) -> Int? {
        let (product, overflow) = blockIndex.multipliedReportingOverflow(by: UInt64(slotSize))
        guard !overflow, product < UInt64(Int64.max / 2) else { return nil }
        return Self.length + Int(product)
    }

    /// Where slot `blockIndex` of the file's previous copies (`<file>.prev`) starts: slots
    /// there are page-aligned, one page after the header, so dropping a copy (punching a hole)
    /// gives back all of its disk blocks. Nil past what a file offset can address.
    func previousOffset(ofBlock blockIndex: UInt64) -> Int? {
        let (product, overflow) = blockIndex.multipliedReportingOverflow(by: UInt64(previousSlotStride))
        guard !overflow, product < UInt64(Int64.max / 2) else { return nil }
        return Self.pageSize + Int(product)
    }

    /// Where slot `blockIndex` starts in the fragment file or in its previous copies.
    func offset(ofBlock blockIndex: UInt64, previous: Bool) -> Int? {
        previous ? previousOffset(ofBlock: blockIndex) : offset(ofBlock: blockIndex)
    }

    /// The room each slot takes in the previous copies: whole pages.
    var previousSlotStride: Int { (slotSize + Self.pageSize - 1) / Self.pageSize * Self.pageSize }

    /// The allocation unit previous copies are aligned to (the usual file-system block).
    static let pageSize = 4096

    /// How many slots a file of `fileSize` bytes spans (a partly present last slot counts).
    func blockCount(fileSize: Int) -> UInt64 {
        guard fileSize > Self.length else { return 0 }
        return UInt64((fileSize - Self.length + slotSize - 1) / slotSize)
    }

    var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes.withUnsafeMutableBytes { pointer in
            func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
                pointer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
            }
            put(Self.magic, at: 0)
            put(format, at: 4)
            put(fragmentIndex, at: 6)
            put(group, at: 8)
            put(inode, at: 12)
            put(fragmentCapacity, at: 20)
            put(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: pointer[0..<60])), at: 60)
        }
        return bytes
    }

    /// Decodes a header; nil when it is not a valid one.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.length else { return nil }
        let decoded: FragmentFileHeader? = bytes.withUnsafeBytes { pointer in
            func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                T(bigEndian: pointer.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            let format = get(4, UInt16.self)
            guard get(0, UInt32.self) == Self.magic, format == Self.formatWithoutChunkTables || format == Self.formatWithChunkTables,
                  get(60, UInt32.self) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: pointer[0..<60]))
            else { return nil }
            return FragmentFileHeader(
                group: get(8, UInt32.self), inode: get(12, UInt64.self),
                fragmentIndex: get(6, UInt8.self), fragmentCapacity: get(20, UInt32.self), format: format
            )
        }
        guard let decoded else { return nil }
        self = decoded
    }

    init(group: UInt32, inode: UInt64, fragmentIndex: UInt8, fragmentCapacity: UInt32, format: UInt16 = Self.formatWithChunkTables) {
        self.group = group
        self.inode = inode
        self.fragmentIndex = fragmentIndex
        self.fragmentCapacity = fragmentCapacity
        self.format = format
    }
}
