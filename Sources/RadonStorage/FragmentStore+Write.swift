#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import RadonCodec
import RadonWire

extension FragmentStore {
    /// Stores `slots` in one fragment file and makes them durable before returning.
    ///
    /// A slot that already holds a newer version is kept and reported as stale; a slot that is
    /// a hole, corrupt, or older (or the same version: a retry or a repair) is overwritten.
    /// Fails with `.invalidArgument` before writing anything if a fragment is larger than the
    /// file's capacity or the capacity differs from the one the file was created with, with
    /// `.corrupt` before writing anything if a fragment's bytes do not match the CRC32C its
    /// sender computed (`FragmentSlotWrite.checksum`: damaged on the way, or in the sender's
    /// memory), and with `.noSpace` when the disk is full (nothing of this call is then
    /// acknowledged). The sender's CRC is what the slot header stores: checked, not recomputed,
    /// so the CRC a reader checks is the one made beside the encoder.
    ///
    /// With `keepPrevious`, an intact older version about to be overwritten is first copied to
    /// the slot's previous copy (`<file>.prev`), unless that copy already holds one (then the
    /// slot holds a version not yet known decodable, which is simply replaced): a client
    /// overwrite that fails on most nodes then leaves the block's old version readable. The
    /// reply names the blocks that have a previous copy; the client drops them
    /// (`dropPrevious`) once its write is durable on enough nodes.
    ///
    /// With `deferSync`, when no slot replaced a stored version (a hole or a corrupt slot is
    /// none), the fsyncs are left to `synchronize(_:)`: new data reaches the page cache, which
    /// a killed process does not lose, and is made durable when the client's file is synced (at
    /// its fsync or close). A write that replaces a version is fsync'd here whatever is asked,
    /// so a host that crashes before the next sync loses only data never synced, never a
    /// version that was durable before.
    public func write(
        _ file: FragmentFileKey, fragmentCapacity: UInt32, slots: [FragmentSlotWrite], keepPrevious: Bool = false, deferSync: Bool = false
    ) async throws -> WriteOutcome {
        guard fragmentCapacity > 0, fragmentCapacity <= Self.maximumFragmentCapacity else {
            throw WireError(.invalidArgument, "fragment capacity \(fragmentCapacity) is outside 1...\(Self.maximumFragmentCapacity)")
        }
        let layout = FragmentFileHeader(group: file.group, inode: file.inode, fragmentIndex: file.fragmentIndex, fragmentCapacity: fragmentCapacity)
        for slot in slots {
            guard slot.bytes.readableBytes <= Int(fragmentCapacity) else {
                throw WireError(.invalidArgument, "block \(slot.blockIndex): \(slot.bytes.readableBytes) bytes exceed the fragment capacity \(fragmentCapacity)")
            }
            guard layout.offset(ofBlock: slot.blockIndex) != nil, layout.previousOffset(ofBlock: slot.blockIndex) != nil else {
                throw WireError(.invalidArgument, "block index \(slot.blockIndex) is out of range")
            }
        }
        return try await onIOThread {
            try Self.checkChecksums(of: slots, in: file)
            return try self.writeSynchronously(file, layout: layout, slots: slots, keepPrevious: keepPrevious, deferSync: deferSync)
        }
    }

    /// fsyncs fragment file `file`, its previous copies and its group directory, so every write
    /// to it whose fsync was deferred is durable. A file or directory that does not exist has
    /// nothing to sync (deleted since, or never written here). The data directory needs none:
    /// a group directory's entry is fsync'd when it is made, deferred write or not.
    public func synchronize(_ file: FragmentFileKey) async throws {
        try await onIOThread {
            for path in [self.previousPath(of: file), self.path(of: file)] {
                guard let handle = try POSIXFile.openIfExists(path, flags: O_RDONLY) else { continue }
                try handle.synchronize()
            }
            let groupPath = self.groupDirectory(file.group)
            var information = stat()
            if stat(groupPath, &information) == 0 {
                try POSIXFile.synchronizeDirectory(groupPath)
            }
        }
    }

    /// Throws `.corrupt` naming the first slot whose bytes do not match the checksum they came
    /// with. Run over every slot before any is written: a request refused is refused whole.
    static func checkChecksums(of slots: [FragmentSlotWrite], in file: FragmentFileKey) throws {
        for slot in slots {
            let actual = slot.bytes.withUnsafeReadableBytes { CRC32C.checksum($0) }
            guard actual == slot.checksum else {
                throw WireError(.corrupt, "checksum mismatch in \(file) block \(slot.blockIndex): the bytes received have CRC32C "
                    + "0x\(String(actual, radix: 16)), the sender computed 0x\(String(slot.checksum, radix: 16)); nothing of this request was written")
            }
        }
    }

    /// What a write did besides storing: slots it left alone, slots with a previous copy.
    public struct WriteOutcome: Sendable {
        /// Slots that held a newer version than the one sent, which they keep.
        public var staleSlots: [StaleSlot] = []
        /// Blocks whose previous version is kept beside the one just written.
        public var blocksWithPrevious: [UInt64] = []
        /// The slots are written but not fsync'd (`deferSync`): `synchronize(_:)` makes them durable.
        public var syncDeferred = false
    }

    /// Opens `path` for writing, creating it (and counting it when `counted`) if needed;
    /// whether it was created.
    func openForWriting(_ path: String, counted: Bool) throws -> (handle: POSIXFile, created: Bool) {
        if let existing = try POSIXFile.openIfExists(path, flags: O_RDWR) { return (existing, false) }
        if let new = try POSIXFile.createExclusively(path) {
            if counted { fileCreated() }
            return (new, true)
        }
        if let raced = try POSIXFile.openIfExists(path, flags: O_RDWR) { return (raced, false) }
        throw WireError(.internalError, "\(path) vanished while being opened")
    }

    private func writeSynchronously(
        _ file: FragmentFileKey, layout requested: FragmentFileHeader, slots: [FragmentSlotWrite], keepPrevious: Bool, deferSync: Bool
    ) throws -> WriteOutcome {
        let groupPath = groupDirectory(file.group)
        if mkdir(groupPath, PrivateState.directoryMode) == 0 {
            // Even for a deferred write: a later write that is not deferred fsyncs its file and
            // the group directory, never the data directory (a group's is made once per node).
            try POSIXFile.synchronizeDirectory(directory)
        } else if errno != EEXIST {
            throw POSIXFile.error("mkdir", groupPath)
        }
        let (handle, created) = try openForWriting(path(of: file), counted: true)
        // The file's own layout: an existing file keeps the format it was made with.
        let layout = try ensureHeader(requested, in: handle)
        // The previous copies, opened on the first overwrite that needs them, with their layout.
        var previous: (handle: POSIXFile, created: Bool, layout: FragmentFileHeader)?
        func previousFile() throws -> (handle: POSIXFile, layout: FragmentFileHeader) {
            if let previous { return (previous.handle, previous.layout) }
            let opened = try openForWriting(previousPath(of: file), counted: false)
            let previousLayout = try ensureHeader(layout, in: opened.handle)
            previous = (opened.handle, opened.created, previousLayout)
            return (opened.handle, previousLayout)
        }

        // A slot header's room; `keepAsPrevious` grows it to a whole slot when it copies one.
        var scratch = [UInt8](repeating: 0, count: SlotHeader.length)
        var outcome = WriteOutcome()
        // Whether a slot held an intact version this write replaced: then it is fsync'd now.
        var replacedStored = false
        for slot in slots {
            let offset = layout.offset(ofBlock: slot.blockIndex)!
            let kept: StaleSlot? = try withSlotLock(file, block: slot.blockIndex) {
                let stored = try storedVersion(in: handle, at: offset, scratch: &scratch)
                if let stored, stored > slot.version {
                    return StaleSlot(blockIndex: slot.blockIndex, storedVersion: stored)
                }
                if stored != nil { replacedStored = true }
                if keepPrevious, let stored, stored < slot.version,
                   try keepAsPrevious(from: handle, in: previousFile, blockIndex: slot.blockIndex, version: stored, layout: layout, scratch: &scratch) {
                    outcome.blocksWithPrevious.append(slot.blockIndex)
                }
                let count = slot.bytes.readableBytes
                try scratch.withUnsafeMutableBytes { buffer in
                    // The sender's CRC, checked against these bytes before any slot was written.
                    let header = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<SlotHeader.length])
                    SlotHeader(
                        fragmentIndex: file.fragmentIndex, version: slot.version, effectiveLength: slot.effectiveLength,
                        byteCount: UInt32(count), dataChecksum: slot.checksum
                    ).write(to: header)
                    // The header and the fragment as it arrived, in one write without joining them.
                    try slot.bytes.withUnsafeReadableBytes { bytes in
                        try handle.write([UnsafeRawBufferPointer(header), bytes], at: offset)
                    }
                    if layout.hasChunkTables {
                        // From the very bytes checked against the sender's CRC; see SlotChunkTable.
                        let table = slot.bytes.withUnsafeReadableBytes { SlotChunkTable(version: slot.version, fragment: $0) }
                        try table.bytes.withUnsafeBytes { try handle.write($0, at: offset + layout.chunkTableOffsetInSlot) }
                    }
                }
                return nil
            }
            if let kept { outcome.staleSlots.append(kept) }
        }
        if deferSync, !replacedStored, previous == nil {
            // Not waited for; `synchronize` waits for what is left of it.
            for slot in slots { handle.startWriteBack(at: layout.offset(ofBlock: slot.blockIndex)!, count: layout.slotSize) }
            outcome.syncDeferred = true
            return outcome
        }
        // The previous copies first: once the new versions are durable the old ones must be.
        try previous?.handle.synchronize()
        try handle.synchronize()
        if created || previous?.created == true {
            try POSIXFile.synchronizeDirectory(groupPath)
        }
        return outcome
    }

    /// Checks the file's header against the layout of this write, writing it when the file is
    /// new or its header is unreadable (a crash before the first write, or rot: the slots keep
    /// their own CRCs, so a wrongly laid-out old slot reads as corrupt, never as data). Returns
    /// the layout the file's slots follow: an existing file's, whose format may be older than
    /// `layout`'s.
    func ensureHeader(_ layout: FragmentFileHeader, in handle: POSIXFile) throws -> FragmentFileHeader {
        var bytes = [UInt8](repeating: 0, count: FragmentFileHeader.length)
        let count = try bytes.withUnsafeMutableBytes { try handle.read(into: $0, at: 0) }
        if count == FragmentFileHeader.length, let existing = FragmentFileHeader(bytes) {
            guard existing.fragmentCapacity == layout.fragmentCapacity else {
                throw WireError(.invalidArgument, "\(handle.path) has fragment capacity \(existing.fragmentCapacity), not \(layout.fragmentCapacity)")
            }
            guard existing.fragmentIndex == layout.fragmentIndex, existing.inode == layout.inode, existing.group == layout.group else {
                throw WireError(.corrupt, "\(handle.path) holds another fragment file's header")
            }
            return existing
        }
        try layout.bytes.withUnsafeBytes { try handle.write($0, at: 0) }
        return layout
    }

    /// The version a slot holds, nil for a hole or a corrupt slot (both may be overwritten).
    func storedVersion(in handle: POSIXFile, at offset: Int, scratch: inout [UInt8]) throws -> UInt64? {
        try scratch.withUnsafeMutableBytes { buffer in
            let header = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<SlotHeader.length])
            let count = try handle.read(into: header, at: offset)
            guard count == SlotHeader.length, case let .valid(stored) = SlotHeader.decode(UnsafeRawBufferPointer(header)) else {
                return nil
            }
            return stored.version
        }
    }
}
