extension OpenFile {
    /// Blocks fetched ahead of a sequential reader: about 8 MiB, between 2 and 16 blocks.
    var readAheadBlockCount: Int {
        min(16, max(2, (8 << 20) / geometry.blockSize))
    }

    /// Up to `count` bytes at `offset`, fewer only at end of file; holes read as zeros.
    func read(at offset: UInt64, count: Int) async throws -> [UInt8] {
        guard offset < size, count > 0 else { return [] }
        let length = Int(min(UInt64(count), size - offset))
        if isInline {
            var bytes = Array(inlineBytes[Int(min(offset, UInt64(inlineBytes.count)))..<min(Int(offset) + length, inlineBytes.count)])
            if bytes.count < length { bytes += [UInt8](repeating: 0, count: length - bytes.count) }
            return bytes
        }
        let pieces = geometry.pieces(offset: offset, count: length)
        let sequential = offset == lastReadEnd
        lastReadEnd = offset + UInt64(length)
        // A small read away from the last one, of a block not at hand: its bytes straight from
        // the data fragment that holds them (see `BlockStore.readRange`).
        if !sequential, pieces.count == 1, let piece = pieces.first,
           let bytes = await storedRange(of: piece.blockIndex, piece.offsetInBlock..<piece.offsetInBlock + piece.length) {
            return bytes
        }
        // Fetch every block of the request at once, and the next few when the reader is
        // sequential, then copy them out in order.
        for piece in pieces { startFetchIfNeeded(piece.blockIndex) }
        if sequential, let last = pieces.last?.blockIndex {
            let limit = geometry.blockCount(forFileSize: storedSize)
            var next = last + 1
            while next < min(limit, last + 1 + UInt64(readAheadBlockCount)) {
                startFetchIfNeeded(next)
                next += 1
            }
        }
        var blocks: [[UInt8]] = []
        for piece in pieces { blocks.append(try await blockBytes(piece.blockIndex)) }
        return Self.assemble(pieces, of: blocks, length: length)
    }

    /// The `length` bytes the `pieces` (which tile `0..<length`, block by block) take from
    /// `blocks`, zeros past a block's end. A request for one whole block is that block's array
    /// itself (shared, not copied); any other is copied once into an array that is not
    /// zero-filled first, since every byte of it is written.
    static func assemble(_ pieces: [BlockGeometry.Piece], of blocks: [[UInt8]], length: Int) -> [UInt8] {
        if pieces.count == 1, let piece = pieces.first, piece.offsetInBlock == 0, piece.length == blocks[0].count {
            return blocks[0]
        }
        return [UInt8](unsafeUninitializedCapacity: length) { result, initialized in
            let output = UnsafeMutableRawBufferPointer(result)
            for (piece, block) in zip(pieces, blocks) {
                let available = max(0, min(piece.length, block.count - piece.offsetInBlock))
                let destination = piece.offsetInRange
                if available > 0 {
                    block.withUnsafeBytes { source in
                        UnsafeMutableRawBufferPointer(rebasing: output[destination..<destination + available])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[piece.offsetInBlock..<piece.offsetInBlock + available]))
                    }
                }
                UnsafeMutableRawBufferPointer(rebasing: output[destination + available..<destination + piece.length]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            initialized = length
        }
    }

    /// Starts fetching block `index` from the storage nodes unless it is at hand already.
    func startFetchIfNeeded(_ index: UInt64) {
        guard prefetches[index] == nil, inFlight[index] == nil, blockMayHoldData(index),
              cache.block(inode: inode, index: index) == nil else { return }
        if let dirty = dirtyBlocks[index], dirty.baseIsKnown { return }
        let (store, layout) = (self.store, self.layout)
        // Cached only by `storedBlockBytes`, which knows whether a send overtook the fetch.
        prefetches[index] = Task {
            try await store.readBlock(layout: layout, index: index).bytes
        }
        // Keep read-ahead bounded: forget fetches far behind the reader.
        if prefetches.count > 4 * readAheadBlockCount, let oldest = prefetches.keys.min() {
            prefetches.removeValue(forKey: oldest)?.cancel()
        }
    }

    /// The current contents of block `index`: buffered writes over stored bytes.
    func blockBytes(_ index: UInt64) async throws -> [UInt8] {
        if var dirty = dirtyBlocks[index], dirty.baseIsKnown {
            // Whole from now on, so the reads after this one take the same array.
            dirty.makeWhole()
            setDirtyBlock(dirty, at: index)
            return dirty.bytes
        }
        let stored = try await storedBlockBytes(index)
        // Re-read the buffer after the wait: writes may have landed meanwhile.
        guard var dirty = dirtyBlocks[index] else { return stored }
        if !dirty.baseIsKnown { dirty.merge(base: stored) } else { dirty.makeWhole() }
        setDirtyBlock(dirty, at: index)
        return dirty.bytes
    }

    /// What the nodes hold for block `index` (or what is on its way to them).
    ///
    /// A fetch that a send of the block overtook (another handle writing while this one reads)
    /// is neither returned nor cached: it may miss what that send stored, and a stale block in
    /// the cache would be read back later as current. It is asked again instead.
    func storedBlockBytes(_ index: UInt64) async throws -> [UInt8] {
        if let pending = inFlight[index] { return pending.bytes }
        guard blockMayHoldData(index) else { return [UInt8](repeating: 0, count: geometry.blockSize) }
        if let cached = cache.block(inode: inode, index: index) { return cached }
        let sendsBefore = sendCounts[index, default: 0]
        let fetched: [UInt8]
        if let fetch = prefetches[index] {
            do {
                fetched = try await fetch.value
                if prefetches[index] == fetch { prefetches[index] = nil }
            } catch {
                if prefetches[index] == fetch { prefetches[index] = nil }
                // Cancelled because the block changed (whatever the fetch then failed with):
                // ask again; a real failure of the nodes is the reader's error.
                guard fetch.isCancelled || error is CancellationError else { throw error }
                return try await storedBlockBytes(index)
            }
        } else {
            fetched = try await store.readBlock(layout: layout, index: index).bytes
        }
        guard sendCounts[index, default: 0] == sendsBefore, inFlight[index] == nil else { return try await storedBlockBytes(index) }
        cache.store(fetched, inode: inode, index: index)
        return fetched
    }

    /// Reads larger than this take the whole block (and cache it for the reads around them).
    static var rangeReadLimit: Int { 128 << 10 }

    /// `range` of block `index` from the data fragments alone, when the block is not buffered,
    /// cached, fetched or being sent; nil to read the whole block instead. The answer is not
    /// cached (it is not a whole block) and is dropped if a write or send of the block came
    /// meanwhile (it may predate them).
    func storedRange(of index: UInt64, _ range: Range<Int>) async -> [UInt8]? {
        guard range.count <= Self.rangeReadLimit, blockMayHoldData(index), dirtyBlocks[index] == nil,
              inFlight[index] == nil, prefetches[index] == nil, cache.block(inode: inode, index: index) == nil else { return nil }
        let sendsBefore = sendCounts[index, default: 0]
        let knownVersion = knownVersions[index]
        guard let (bytes, version) = await store.readRange(layout: layout, index: index, range: range, knownVersion: knownVersion) else {
            // The data node did not hold the version known (it missed a write, or the block
            // changed): ask with witnesses next time.
            if knownVersion != nil, knownVersions[index] == knownVersion { knownVersions[index] = nil }
            return nil
        }
        guard sendCounts[index, default: 0] == sendsBefore, dirtyBlocks[index] == nil, inFlight[index] == nil else { return nil }
        if knownVersion == nil, knownVersions[index] == nil { remember(version: version, of: index) }
        return bytes
    }
}
