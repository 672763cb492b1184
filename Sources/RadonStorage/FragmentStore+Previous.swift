#if canImport(Glibc)
import Glibc
#endif
import RadonWire

/// Previous copies of slots: `<dir>/g<group>/<inode>.<fragmentIndex>.prev`, with the fragment
/// file's header but page-aligned slots (`FragmentFileHeader.previousOffset`), sparse, holding
/// for a slot the version it held before a client overwrite, until that overwrite is known to
/// be decodable.
///
/// A slot holds one version, so without them an overwrite that reached only a few nodes (and
/// failed) would leave neither the old version nor the new one on k nodes. With them the old
/// version stays readable (`readFragments` of the previous copies), and the client drops it
/// (`dropPrevious`) once the new version is durable on k+1 nodes, so nothing lingers after
/// a normal overwrite: the copy's disk blocks are given back (a punched hole).
extension FragmentStore {
    func previousPath(of file: FragmentFileKey) -> String {
        path(of: file) + ".prev"
    }

    /// Before the slot of block `blockIndex` in `handle` (intact, holding `version`) is
    /// overwritten: copies it into the previous copies, unless they already hold an older
    /// intact version of it (then the slot holds a version not yet known decodable, which
    /// goes, and the older one stays). True when a previous version is kept. Runs under the
    /// slot's lock. `scratch` is grown to a whole slot when a slot is copied.
    func keepAsPrevious(
        from handle: POSIXFile, in previousFile: () throws -> (handle: POSIXFile, layout: FragmentFileHeader), blockIndex: UInt64,
        version: UInt64, layout: FragmentFileHeader, scratch: inout [UInt8]
    ) throws -> Bool {
        guard let offset = layout.offset(ofBlock: blockIndex) else { return false }
        let (previous, previousLayout) = try previousFile()
        guard let previousOffset = previousLayout.previousOffset(ofBlock: blockIndex) else { return false }
        if let kept = try storedVersion(in: previous, at: previousOffset, scratch: &scratch), kept < version { return true }
        if scratch.count < layout.slotSize { scratch = [UInt8](repeating: 0, count: layout.slotSize) }
        return try scratch.withUnsafeMutableBytes { buffer in
            let count = try handle.read(into: buffer, at: offset)
            guard count >= SlotHeader.length, case let .valid(header) = SlotHeader.decode(UnsafeRawBufferPointer(buffer)),
                  header.version == version, SlotHeader.length + Int(header.byteCount) <= count
            else { return false }
            try previous.write(UnsafeRawBufferPointer(rebasing: buffer[0..<(SlotHeader.length + Int(header.byteCount))]), at: previousOffset)
            return true
        }
    }

    /// Drops the previous copies of `slots` that are older than the version given for them
    /// (the client's write of that version is durable on enough nodes). Not fsync'd: a copy
    /// that comes back after a crash is an older version readers take only as a fallback.
    public func dropPrevious(_ file: FragmentFileKey, slots: [(blockIndex: UInt64, version: UInt64)]) async throws {
        try await onIOThread {
            guard let handle = try POSIXFile.openIfExists(self.previousPath(of: file), flags: O_RDWR),
                  let layout = try Self.header(of: handle) else { return }
            var scratch = [UInt8](repeating: 0, count: SlotHeader.length)
            for slot in slots {
                guard let offset = layout.previousOffset(ofBlock: slot.blockIndex) else { continue }
                try self.withSlotLock(file, block: slot.blockIndex) {
                    guard try self.storedVersion(in: handle, at: offset, scratch: &scratch).map({ $0 < slot.version }) ?? true else { return }
                    try Self.punchHole(in: handle, at: offset, length: layout.previousSlotStride)
                }
            }
        }
    }

    /// Frees `length` bytes at `offset` (they read as zeros: a hole); where the file system
    /// cannot punch holes, zeroes the slot header, which reads as a hole just the same.
    static func punchHole(in handle: POSIXFile, at offset: Int, length: Int) throws {
        let punchHole: Int32 = 0x02, keepSize: Int32 = 0x01  // FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE
        if let fallocate = linuxFallocate, fallocate(handle.descriptor, punchHole | keepSize, off_t(offset), off_t(length)) == 0 { return }
        let zeros = [UInt8](repeating: 0, count: SlotHeader.length)
        try zeros.withUnsafeBytes { try handle.write($0, at: offset) }
    }

    /// glibc's `fallocate(2)`, which the Glibc module does not import (it is a GNU extension);
    /// nil where the C library lacks it.
    private static let linuxFallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = {
        guard let symbol = dlsym(nil, "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
    }()
}
