#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import RadonCodec
import RadonWire

extension FragmentStore {
    /// Reads slots of one fragment file, each checked (header CRC, fragment index, data CRC)
    /// before it is served: a slot that fails is `.corrupt`, never wrong bytes. A served
    /// fragment carries its stored CRC (the writer's) for the reader to check again on
    /// arrival; 0 without `includeBytes`. Results follow the order of `blocks` and may stop
    /// early to keep a reply within one frame.
    ///
    /// With `previous`, the slots' previous copies (the version an unconfirmed overwrite
    /// replaced; see `keepAsPrevious`), `.missing` where there is none.
    public func read(_ file: FragmentFileKey, blocks: BlockSelection, includeBytes: Bool = true, previous: Bool = false) async throws -> [FragmentReadResult] {
        try await onIOThread { try self.readSynchronously(file, blocks: blocks, includeBytes: includeBytes, previous: previous) }
    }

    private func readSynchronously(_ file: FragmentFileKey, blocks: BlockSelection, includeBytes: Bool, previous: Bool) throws -> [FragmentReadResult] {
        let limit = min(blocks.count, Self.readReplyMaximumCount)
        let wanted = blocks.prefixIndices(limit)
        guard let handle = try POSIXFile.openIfExists(previous ? previousPath(of: file) : path(of: file), flags: O_RDONLY) else {
            return wanted.map { FragmentReadResult(blockIndex: $0, fragment: .missing) }
        }
        let size = try handle.size
        var headerBytes = [UInt8](repeating: 0, count: FragmentFileHeader.length)
        _ = try headerBytes.withUnsafeMutableBytes { try handle.read(into: $0, at: 0) }
        guard let layout = FragmentFileHeader(headerBytes) else {
            // Without a header no slot can be located: whatever lies in the file is unusable.
            return wanted.map {
                FragmentReadResult(blockIndex: $0, fragment: size > FragmentFileHeader.length ? .corrupt : .missing)
            }
        }
        let slotSize = layout.slotSize
        // Which of the wanted blocks this reply covers, and where their slots start.
        var planned: [(block: UInt64, offset: Int?)] = []
        planned.reserveCapacity(wanted.count)
        // Bytes to ship, or (when only versions are asked for) bytes to read and check.
        var budget = includeBytes ? Self.readReplyBudget : 4 * Self.readReplyBudget
        for block in wanted {
            let offset = layout.offset(ofBlock: block, previous: previous).flatMap { $0 + SlotHeader.length <= size ? $0 : nil }
            if offset != nil {
                if !planned.isEmpty, budget < slotSize { break }
                budget -= slotSize
            }
            planned.append((block, offset))
        }

        // All slots go into one buffer reserved up front, sliced only after the last read, so no
        // slice forces a copy of the buffer while it is being filled.
        let onDisk = planned.lazy.filter { $0.offset != nil }.count
        var buffer = ByteBufferAllocator().buffer(capacity: (includeBytes ? onDisk : min(onDisk, 1)) * slotSize)
        var regions: [Int?] = []
        regions.reserveCapacity(planned.count)
        var results: [FragmentReadResult] = []
        results.reserveCapacity(planned.count)
        for (block, offset) in planned {
            guard let offset else {
                regions.append(nil)
                continue
            }
            if !includeBytes { buffer.clear() }
            let start = buffer.writerIndex
            try withSlotLock(file, block: block) {
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: slotSize) { pointer in
                    try handle.read(into: UnsafeMutableRawBufferPointer(rebasing: pointer[0..<slotSize]), at: offset)
                }
            }
            if includeBytes {
                regions.append(start)
            } else {
                results.append(FragmentReadResult(blockIndex: block, fragment: checkSlot(in: buffer, at: start, layout: layout, includeBytes: false)))
            }
        }
        guard includeBytes else {
            // Blocks past the end were skipped above; put every result back in the order asked.
            var checked = results.makeIterator()
            return planned.map { entry in
                entry.offset == nil ? FragmentReadResult(blockIndex: entry.block, fragment: .missing) : checked.next()!
            }
        }
        return zip(planned, regions).map { entry, start in
            guard let start else { return FragmentReadResult(blockIndex: entry.block, fragment: .missing) }
            return FragmentReadResult(blockIndex: entry.block, fragment: checkSlot(in: buffer, at: start, layout: layout, includeBytes: true))
        }
    }

    /// Judges the slot read into `buffer` at `start` (up to `slotSize` bytes; fewer at the end
    /// of the file).
    private func checkSlot(in buffer: ByteBuffer, at start: Int, layout: FragmentFileHeader, includeBytes: Bool) -> StoredFragment {
        let available = min(buffer.writerIndex - start, layout.slotSize)
        let verdict: (header: SlotHeader, ok: Bool)? = buffer.withUnsafeReadableBytes { all in
            let slot = UnsafeRawBufferPointer(rebasing: all[(start - buffer.readerIndex)..<(start - buffer.readerIndex + available)])
            switch SlotHeader.decode(slot) {
            case .hole: return nil
            case .corrupt: return (SlotHeader(fragmentIndex: 0, version: 0, effectiveLength: 0, byteCount: 0, dataChecksum: 0), false)
            case let .valid(header):
                let end = SlotHeader.length + Int(header.byteCount)
                guard header.fragmentIndex == layout.fragmentIndex, header.byteCount <= layout.fragmentCapacity, end <= available else {
                    return (header, false)
                }
                let data = UnsafeRawBufferPointer(rebasing: slot[SlotHeader.length..<end])
                return (header, CRC32C.checksum(data) == header.dataChecksum)
            }
        }
        guard let verdict else { return .missing }
        guard verdict.ok else { return .corrupt }
        guard includeBytes else {
            return .present(version: verdict.header.version, effectiveLength: verdict.header.effectiveLength, bytes: ByteBuffer(), checksum: 0)
        }
        let bytes = buffer.getSlice(at: start + SlotHeader.length, length: Int(verdict.header.byteCount))!
        return .present(version: verdict.header.version, effectiveLength: verdict.header.effectiveLength, bytes: bytes,
                        checksum: verdict.header.dataChecksum)
    }
}

extension BlockSelection {
    /// The first `count` block indices of the selection.
    func prefixIndices(_ count: Int) -> [UInt64] {
        switch self {
        case let .range(range): Array(range.prefix(count))
        case let .indices(indices): Array(indices.prefix(count))
        }
    }
}
