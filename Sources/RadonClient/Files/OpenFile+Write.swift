extension OpenFile {
    /// Takes `bytes` at `offset` into the write buffer; full blocks leave for the storage nodes
    /// at once, partial ones wait for more writes or a flush.
    func write(_ bytes: [UInt8], at requestedOffset: UInt64, appending: Bool = false) async throws -> Int {
        try takeDeferredError()
        guard !bytes.isEmpty else { return 0 }
        let offset = appending ? size : requestedOffset
        let end = offset + UInt64(bytes.count)
        if let quotaLimit, end > max(size, quotaLimit) { try await requireQuotaRoom(upTo: end) }
        isModified = true
        writeCount &+= 1
        scheduleWriteBack()
        if isInline {
            if end <= UInt64(inlineThreshold) {
                if inlineBytes.count < Int(end) {
                    inlineBytes += [UInt8](repeating: 0, count: Int(end) - inlineBytes.count)
                }
                inlineBytes.replaceSubrange(Int(offset)..<Int(end), with: bytes)
                inlineWritten.insert(Int(offset)..<Int(end))
                size = max(size, end)
                return bytes.count
            }
            moveOutOfInode()
        }
        let pieces = geometry.pieces(offset: offset, count: bytes.count)
        size = max(size, end)
        for piece in pieces {
            let index = piece.blockIndex
            // Taken out of the dictionary while it changes, so the block is not copied.
            var block = takeDirtyBlock(index) ?? DirtyBlock(blockSize: geometry.blockSize, baseIsKnown: !blockMayHoldData(index))
            block.write(bytes[piece.offsetInRange..<piece.offsetInRange + piece.length], at: piece.offsetInBlock)
            setDirtyBlock(block, at: index)
            cache.remove(inode: inode, index: index)
            prefetches.removeValue(forKey: index)?.cancel()
        }
        // Send what is full; the last block may still grow.
        for piece in pieces where dirtyBlocks[piece.blockIndex]?.written.covers(0..<geometry.blockSize) == true {
            try await send(piece.blockIndex)
        }
        try await sendWhileOverBudget()
        return bytes.count
    }

    /// Has the file flushed `writeBackDelay` from now unless that is planned already: writes
    /// left in a file nobody flushes (an open log, a database) reach the nodes anyway.
    func scheduleWriteBack() {
        guard !writeBackIsScheduled else { return }
        writeBackIsScheduled = true
        let delay = writeBudget.writeBackDelay
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.writeBack()
        }
    }

    /// The background flush: a failure is kept for the next write, flush or fsync to report,
    /// as the kernel reports a failed writeback.
    func writeBack() async {
        writeBackIsScheduled = false
        guard isModified else { return }
        do {
            try await flush()
        } catch {
            if deferredError == nil { deferredError = FileSystemError(describing: error) }
        }
    }

    /// Sends this file's blocks, the most written first, while the client holds more unsent
    /// bytes than its write budget allows: the block with the most writes gathered pays its
    /// read-modify-write best.
    func sendWhileOverBudget() async throws {
        while writeBudget.isOverCapacity, let victim = blockToSend() {
            evicting.insert(victim)
            defer { evicting.remove(victim) }
            try await send(victim)
        }
    }

    /// The unsent block holding the most written bytes that no writer is sending yet.
    func blockToSend() -> UInt64? {
        var best: (index: UInt64, written: Int)?
        for (index, block) in dirtyBlocks where !evicting.contains(index) {
            let written = block.writtenByteCount
            if let current = best, current.written > written || (current.written == written && current.index < index) { continue }
            best = (index, written)
        }
        return best?.index
    }

    /// Whether block `index` may hold stored bytes: it lies before the stored size, or it was
    /// sent already though the service does not know yet (a flush from another handle sent it
    /// while this one kept writing: its base must then be read, not taken as zeros).
    func blockMayHoldData(_ index: UInt64) -> Bool {
        if inFlight[index] != nil || sendCounts[index, default: 0] > 0 { return true }
        return !isInline && geometry.startOfBlock(index) < storedSize && !serviceThinksInline
    }

    /// The file outgrew the inode: its bytes become block 0 (and on) in the write buffer; the
    /// service's inline copy is dropped once those blocks are durable (at flush).
    func moveOutOfInode() {
        isInline = false
        let bytes = inlineBytes
        inlineBytes = []
        inlineWritten = ByteRangeSet()
        for piece in geometry.pieces(offset: 0, count: bytes.count) {
            var block = DirtyBlock(blockSize: geometry.blockSize, baseIsKnown: true)
            block.write(bytes[piece.offsetInRange..<piece.offsetInRange + piece.length], at: piece.offsetInBlock)
            setDirtyBlock(block, at: piece.blockIndex)
        }
        isModified = true
    }

    /// Moves the file's bytes out of the inode into durable blocks (block 0 on) and drops the
    /// service's inline copy: growing an inline file past the threshold by truncation needs
    /// this first, since only the client writes fragments. Does nothing for a block file.
    func moveOutOfInodeDurably() async throws {
        try await flush()
        guard isInline else { return }
        moveOutOfInode()
        try await flush()
    }

    /// Encodes and sends dirty block `index` in the background (after a read-modify-write when
    /// only part of it was written), keeping at most a few blocks in flight.
    ///
    /// The block stays in the write buffer while its old contents are read, so reads and writes
    /// meanwhile see and add to it; a base read that another send of the block overtook is
    /// read again, since it may miss what that send stored.
    func send(_ index: UInt64) async throws {
        try await ensureDataToken()
        activeSends += 1
        defer { activeSends -= 1 }
        try await sendHoldingToken(index)
    }

    private func sendHoldingToken(_ index: UInt64) async throws {
        var floorVersion: UInt64 = 0
        while let block = dirtyBlocks[index], !block.isComplete(effectiveLength: effectiveLength(of: block, index: index)) {
            await waitForInFlight(index)
            let sendsBefore = sendCounts[index, default: 0]
            let stored = try await store.readBlock(layout: layout, index: index)
            // Whoever merges the base, the new version must outrank what the nodes hold.
            floorVersion = max(floorVersion, stored.newestVersionSeen)
            guard sendCounts[index, default: 0] == sendsBefore, inFlight[index] == nil,
                  var current = dirtyBlocks[index], !current.baseIsKnown else { continue }
            current.merge(base: stored.bytes)
            setDirtyBlock(current, at: index)
        }
        // One write per block at a time, so versions reach the nodes in order.
        await waitForInFlight(index)
        while inFlight.count >= Self.maximumBlocksInFlight, let any = inFlight.values.first {
            await any.task.value
        }
        try takeDeferredError()
        guard let block = takeDirtyBlock(index) else { return }
        let effectiveLength = effectiveLength(of: block, index: index)
        guard block.isComplete(effectiveLength: effectiveLength) else {
            // Sent by another call while this one waited, and written again since: start over.
            setDirtyBlock(block, at: index)
            return try await sendHoldingToken(index)
        }
        sendCounts[index, default: 0] &+= 1
        sentSincePublish = true
        sendSerial &+= 1
        // A fetch started before this send may miss it: nobody may take it as current.
        prefetches.removeValue(forKey: index)?.cancel()
        let bytes = block.bytes
        cache.store(bytes, inode: inode, index: index)
        let (store, layout, deferredSyncs) = (self.store, self.layout, self.deferredSyncs)
        let task = Task {
            let outcome: Result<UInt64, FileSystemError>
            do {
                outcome = .success(try await store.writeBlock(layout: layout, index: index, bytes: bytes, effectiveLength: effectiveLength,
                                                              after: floorVersion, deferredSyncs: deferredSyncs))
            } catch {
                outcome = .failure(FileSystemError(describing: error))
            }
            self.finishedSending(index, outcome: outcome)
        }
        inFlight[index] = (bytes, task)
    }

    /// Syncs the block writes nodes left unsynced. Two flushes at once (two handles) may each
    /// have writes in the other's sync, so each sync first waits for the one started before it
    /// (whose failure is its own caller's), and none returns before every write it could hold
    /// is durable.
    func syncDeferredWrites() async throws {
        let (store, deferredSyncs, previous) = (self.store, self.deferredSyncs, lastDeferredSync)
        let sync = Task {
            _ = try? await previous?.value
            try await store.syncDeferred(deferredSyncs)
        }
        lastDeferredSync = sync
        try await sync.value
    }

    /// Sends blocks `indices`, several at once so the reads of the ones written only in part
    /// overlap (a flush after scattered writes may hold a thousand of them).
    func sendAll(_ indices: [UInt64]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var remaining = indices.makeIterator()
            for _ in 0..<Self.maximumConcurrentSends {
                guard let index = remaining.next() else { break }
                group.addTask { try await self.send(index) }
            }
            while try await group.next() != nil {
                if let index = remaining.next() { group.addTask { try await self.send(index) } }
            }
        }
    }

    /// How much of block `index` lies inside the file, counting what `block` wrote past the end.
    func effectiveLength(of block: DirtyBlock, index: UInt64) -> Int {
        max(geometry.effectiveLength(ofBlock: index, fileSize: size), block.written.ranges.last?.upperBound ?? 0)
    }

    func finishedSending(_ index: UInt64, outcome: Result<UInt64, FileSystemError>) {
        inFlight[index] = nil
        switch outcome {
        case .success(let version):
            remember(version: version, of: index)
            writtenSincePublish.insert(index)
        case .failure(let failure):
            cache.remove(inode: inode, index: index)
            knownVersions[index] = nil
            if deferredError == nil { deferredError = failure }
        }
    }

    func waitForInFlight(_ index: UInt64) async {
        while let pending = inFlight[index] {
            await pending.task.value
        }
    }

    /// Makes every buffered write durable and publishes size and mtime: close-to-open
    /// consistency rests on this. The blocks go out first, then every node that left a block's
    /// fsync for later syncs the file (`BlockStore.syncDeferred`), then the size is published:
    /// what the service names is durable before anyone is told of it.
    ///
    /// Another handle may write while it waits (one process closing while another writes):
    /// it publishes the size it made durable, and stays modified if a write came meanwhile.
    func flush() async throws {
        let writesBefore = writeCount
        if isInline {
            guard isModified else { return }
            // Only the bytes written go, each range on its own: another client's writes to other
            // bytes of the small file survive.
            let ranges = inlineWritten.ranges
            var published: InodeAttributes?
            for range in ranges {
                guard let attributes = try await metadata.writeInline(inode, offset: UInt64(range.lowerBound), bytes: Array(inlineBytes[range])) else {
                    published = nil
                    break
                }
                published = attributes
            }
            if let published {
                await noteOwnChange(published, changes: UInt64(ranges.count))
                storedSize = published.size
                serviceThinksInline = true
                if writeCount == writesBefore {
                    isModified = false
                    inlineWritten = ByteRangeSet()
                }
                return
            }
            // The service would not keep it inline (its threshold is lower, or another client
            // moved it to blocks): use blocks. If the file changed meanwhile, taking the data
            // token finds out and reads the old contents again.
            if isInline { moveOutOfInode() }
        }
        let durableSize = size
        try await sendAll(dirtyBlocks.keys.sorted())
        while let pending = inFlight.values.first {
            await pending.task.value
        }
        try takeDeferredError()
        try await syncDeferredWrites()
        guard isModified else { return }
        var changes: UInt64 = 1
        if serviceThinksInline {
            try await metadata.clearInline(inode)
            serviceThinksInline = false
            changes += 1
        }
        let serialBeforePublish = sendSerial
        let written = writtenSincePublish
        let published = try await metadata.updateSizeAfterWrite(inode, size: durableSize, writtenBlocks: BlockRun.runs(of: written))
        writtenSincePublish.subtract(written)
        if sendSerial == serialBeforePublish { sentSincePublish = false }
        await noteOwnChange(published, changes: changes)
        storedSize = max(storedSize, durableSize)
        if writeCount == writesBefore { isModified = false }
    }
}
