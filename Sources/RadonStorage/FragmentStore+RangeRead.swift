#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import RadonCodec
import RadonWire

extension FragmentStore {
    /// Bytes `offset..<offset + length` of block `block`'s fragment (clamped to the bytes the
    /// slot holds), with the CRC32C of that range: what a `readFragmentRange` answers.
    ///
    /// In a file with chunk tables (format 2) only the slot header, its `SlotChunkTable` and the
    /// 4 KiB chunks the range covers are read, and each chunk is checked against the table: a
    /// 4 KiB read costs a few KiB of disk and CRC, not the whole fragment. Rot in a chunk outside
    /// the range goes unseen here (whole-slot reads and the scrub see it). Where the table does
    /// not vouch for the slot (an older format, a table torn by a crash or rotten), the whole
    /// slot is read and checked against its header's CRC instead, as a full read does.
    ///
    /// The read is first tried on the calling thread from the page cache alone
    /// (`POSIXFile.readIfCached`), which spares the two thread hand-offs of the I/O pool for the
    /// common case of a hot fragment; whatever would wait for the disk goes to the pool. (The
    /// file's `open` runs in place too: it waits for the disk only on a cold directory entry.)
    func readRange(_ file: FragmentFileKey, block: UInt64, offset: Int, length: Int) async throws -> FragmentReadResult {
        var outcome = try readChunks(file, block: block, offset: offset, length: length, waiting: false)
        if case .wouldWait = outcome {
            outcome = try await onIOThread { try self.readChunks(file, block: block, offset: offset, length: length, waiting: true) }
        }
        switch outcome {
        case let .served(result): return result
        case .missing: return FragmentReadResult(blockIndex: block, fragment: .missing)
        case .wouldWait, .wholeSlotNeeded:
            let whole = try await read(file, blocks: .indices([block]))
            return ReadFragmentsReply(results: whole).restricted(toOffset: offset, length: length).results.first
                ?? FragmentReadResult(blockIndex: block, fragment: .missing)
        }
    }

    /// What reading a range from its chunks came to.
    private enum ChunkReadOutcome: Sendable {
        case served(FragmentReadResult)
        /// No such file, or a hole.
        case missing
        /// No chunk table, or one that does not vouch for this slot.
        case wholeSlotNeeded
        /// Not all of it was in the page cache (only when not `waiting`).
        case wouldWait
    }

    /// The range read from the chunks alone. Without `waiting`, every read is from the page
    /// cache or not at all (`.wouldWait`).
    private func readChunks(_ file: FragmentFileKey, block: UInt64, offset: Int, length: Int, waiting: Bool) throws -> ChunkReadOutcome {
        /// Reads `buffer.count` bytes at `at`; nil when not `waiting` and they are not all cached.
        func read(_ handle: POSIXFile, into buffer: UnsafeMutableRawBufferPointer, at position: Int) throws -> Int? {
            waiting ? try handle.read(into: buffer, at: position) : try handle.readIfCached(into: buffer, at: position)
        }
        guard let handle = try POSIXFile.openIfExists(path(of: file), flags: O_RDONLY) else { return .missing }
        var fileHeader = [UInt8](repeating: 0, count: FragmentFileHeader.length)
        guard let fileHeaderCount = try fileHeader.withUnsafeMutableBytes({ try read(handle, into: $0, at: 0) }) else { return .wouldWait }
        guard fileHeaderCount == FragmentFileHeader.length, let layout = FragmentFileHeader(fileHeader), layout.hasChunkTables,
              let slotOffset = layout.offset(ofBlock: block)
        else { return .wholeSlotNeeded }
        if waiting {
            // Something of this slot was not cached: have the kernel bring in the rest of it in
            // the background, as the whole-slot read did before chunk tables, so the reads after
            // this one in a working set that fits in memory find it cached. Advice only.
            _ = posix_fadvise(handle.descriptor, off_t(slotOffset), off_t(layout.slotSize), POSIX_FADV_WILLNEED)
        }
        return try withSlotLock(file, block: block) { () throws -> ChunkReadOutcome in
            var headerBytes = [UInt8](repeating: 0, count: SlotHeader.length)
            guard let headerCount = try headerBytes.withUnsafeMutableBytes({ try read(handle, into: $0, at: slotOffset) }) else { return .wouldWait }
            if headerCount < SlotHeader.length { return .missing }
            let header: SlotHeader
            switch headerBytes.withUnsafeBytes({ SlotHeader.decode($0) }) {
            case .hole: return .missing
            case .corrupt: return .served(FragmentReadResult(blockIndex: block, fragment: .corrupt))
            case let .valid(valid): header = valid
            }
            guard header.fragmentIndex == layout.fragmentIndex, header.byteCount <= layout.fragmentCapacity else {
                return .served(FragmentReadResult(blockIndex: block, fragment: .corrupt))
            }
            var tableBytes = [UInt8](repeating: 0, count: SlotChunkTable.length(forCapacity: Int(layout.fragmentCapacity)))
            guard let tableCount = try tableBytes.withUnsafeMutableBytes({ try read(handle, into: $0, at: slotOffset + layout.chunkTableOffsetInSlot) })
            else { return .wouldWait }
            guard let table = tableBytes.withUnsafeBytes({ SlotChunkTable(UnsafeRawBufferPointer(rebasing: $0[0..<tableCount])) }),
                  table.version == header.version, table.byteCount == header.byteCount
            else { return .wholeSlotNeeded }

            let start = min(offset, Int(header.byteCount))
            let end = start + min(length, Int(header.byteCount) - start)
            guard start < end else {
                return .served(FragmentReadResult(blockIndex: block, fragment: .present(
                    version: header.version, effectiveLength: header.effectiveLength, bytes: ByteBuffer(), checksum: 0)))
            }
            let chunkSize = SlotChunkTable.chunkSize
            let firstChunk = start / chunkSize, lastChunk = (end - 1) / chunkSize
            let readStart = firstChunk * chunkSize
            let readEnd = min((lastChunk + 1) * chunkSize, Int(header.byteCount))
            var buffer = ByteBufferAllocator().buffer(capacity: readEnd - readStart)
            var cached = true
            let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: readEnd - readStart) { pointer in
                let wanted = UnsafeMutableRawBufferPointer(rebasing: pointer[0..<(readEnd - readStart)])
                guard let count = try read(handle, into: wanted, at: slotOffset + SlotHeader.length + readStart) else {
                    cached = false
                    return 0
                }
                return count
            }
            guard cached else { return .wouldWait }
            guard count == readEnd - readStart else { return .served(FragmentReadResult(blockIndex: block, fragment: .corrupt)) }
            let intact = buffer.withUnsafeReadableBytes { chunks in
                (firstChunk...lastChunk).allSatisfy { chunk in
                    let from = chunk * chunkSize - readStart
                    let to = min(from + chunkSize, chunks.count)
                    return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: chunks[from..<to])) == table.checksums[chunk]
                }
            }
            guard intact else { return .served(FragmentReadResult(blockIndex: block, fragment: .corrupt)) }
            let range = buffer.getSlice(at: start - readStart, length: end - start)!
            let checksum = range.withUnsafeReadableBytes { CRC32C.checksum($0) }
            return .served(FragmentReadResult(blockIndex: block, fragment: .present(
                version: header.version, effectiveLength: header.effectiveLength, bytes: range, checksum: checksum)))
        }
    }
}
