import Logging

/// The data of one open inode, shared by every handle open on it in this client.
///
/// It gathers writes into whole blocks (a block is encoded and sent as soon as it is full, a few
/// blocks in flight at once), keeps small files inline in the inode until they outgrow the
/// volume's threshold, reads ahead on sequential reads, and on flush makes everything durable
/// and publishes the new size to the metadata service. Sharing it between handles means a read
/// through one descriptor sees what another descriptor of the same process wrote.
actor OpenFile {
    let inode: UInt64
    var layout: FileLayout
    let geometry: BlockGeometry
    let store: BlockStore
    let cache: BlockCache
    let writeBudget: WriteBufferBudget
    let metadata: any FileMetadataService
    let logger: Logger

    /// The size including buffered writes.
    var size: UInt64
    /// The size the metadata service holds.
    var storedSize: UInt64
    /// Whether the file's bytes live in the inode; `inlineBytes` then holds them all.
    var isInline: Bool
    var inlineBytes: [UInt8] = []
    /// Which inline bytes this client wrote since its last flush: only those go to the service,
    /// so writes of other clients to other bytes of the small file survive.
    var inlineWritten = ByteRangeSet()
    /// The service still thinks the file is inline (until `clearInline` after moving it out).
    var serviceThinksInline: Bool
    /// Something changed since the last flush (data or size).
    var isModified = false
    /// Writes taken so far, so a flush can tell a write came while it waited.
    var writeCount: UInt64 = 0

    /// Written blocks not sent yet; changed only through `setDirtyBlock` and `takeDirtyBlock`,
    /// which keep the client's `writeBudget` true.
    private(set) var dirtyBlocks: [UInt64: DirtyBlock] = [:]
    /// Blocks a writer is sending to bring the client under its write budget, so writers
    /// arriving meanwhile pick others.
    var evicting: Set<UInt64> = []
    /// A background flush is due (`writeBackDelay` after the first write since the last one).
    var writeBackIsScheduled = false
    /// Blocks being written: their bytes (for reads meanwhile) and the task sending them.
    var inFlight: [UInt64: (bytes: [UInt8], task: Task<Void, Never>)] = [:]
    /// The first failure of a background block write, reported at the next write or flush.
    var deferredError: FileSystemError?

    /// Sends started per block, so a read of the nodes can tell a send overtook it (and may
    /// have stored bytes the read missed).
    var sendCounts: [UInt64: UInt64] = [:]

    /// The current version of blocks this file wrote or range-read since it last saw another
    /// client change the file: a small read of one needs only its data node (see
    /// `BlockStore.readRange`). Dropped with everything else when the file changes elsewhere.
    var knownVersions: [UInt64: UInt64] = [:]
    /// Versions remembered at most (8 bytes each, and a 1 MiB block per entry).
    static let maximumKnownVersions = 1 << 16

    /// Read-ahead: where the last read ended, and blocks being fetched ahead of the reader.
    var lastReadEnd: UInt64 = 0
    var prefetches: [UInt64: Task<[UInt8], any Error>] = [:]

    /// The inode generation this file's cached blocks belong to (nil until first seen).
    var knownGeneration: UInt64?
    /// The size the service answered this file's last flush with (at `knownGeneration`).
    var publishedSize: UInt64?
    /// The size writes may grow the file to before the directory quotas above it are asked
    /// again (nil: no quota above it, as the open said). See `OpenFile+Quota`.
    var quotaLimit: UInt64?

    /// The session this file's data token is held under (nil: not held). See `ensureDataToken`.
    var tokenSession: UInt64?
    /// An acquire (and rebase) under way, which other sends wait for.
    var tokenRequest: Task<Void, any Error>?
    /// A release under way, which an acquire waits for.
    var tokenRelease: Task<Void, Never>?
    /// Sends between taking the token and putting their block in flight (reading its base).
    var activeSends = 0
    /// Blocks were sent under the token that no flush has published yet: the token is not
    /// handed back before they are.
    var sentSincePublish = false
    /// Blocks written durably since the last publish: the service adds them to the file's block map.
    var writtenSincePublish: Set<UInt64> = []
    /// Sends started in all, so a flush can tell one started while it published.
    var sendSerial: UInt64 = 0
    /// Block writes the nodes have not fsync'd yet: synced at the next flush (fsync or close).
    let deferredSyncs = DeferredSyncs()
    /// The last sync of `deferredSyncs` started (`syncDeferredWrites`); each waits for the one before.
    var lastDeferredSync: Task<Void, any Error>?

    /// Blocks sent at once per file: enough to keep n nodes busy while the next block is encoded.
    static let maximumBlocksInFlight = 4
    /// Blocks a flush sends at once: a block written only in part is read before it is sent,
    /// and those reads go in parallel.
    static let maximumConcurrentSends = 8

    init(layout: FileLayout, inlineBytes: [UInt8]?, store: BlockStore, cache: BlockCache, writeBudget: WriteBufferBudget,
         metadata: any FileMetadataService, logger: Logger) {
        self.inode = layout.inode
        self.layout = layout
        self.geometry = BlockGeometry(blockSize: Int(layout.volume.blockSize))
        self.store = store
        self.cache = cache
        self.writeBudget = writeBudget
        self.metadata = metadata
        self.logger = logger
        self.size = layout.size
        self.storedSize = layout.size
        self.serviceThinksInline = layout.isInline
        // An empty file has nothing stored anywhere, so it may as well start inline.
        self.isInline = layout.isInline || layout.size == 0
        if let inlineBytes {
            self.inlineBytes = inlineBytes
            if UInt64(inlineBytes.count) < layout.size {
                self.inlineBytes += [UInt8](repeating: 0, count: Int(layout.size) - inlineBytes.count)
            }
        }
    }

    var inlineThreshold: Int { Int(layout.volume.inlineThreshold) }

    /// The attributes the service returned after another client's change: if the size moved
    /// under us while we hold nothing unwritten, take the new size and forget cached blocks.
    func revalidate(with attributes: InodeAttributes) async throws {
        guard let known = knownGeneration else {
            // A new open of the file: blocks cached by earlier opens serve only if the file is
            // still at the generation they were cached at.
            cache.validate(inode: inode, generation: attributes.generation)
            knownGeneration = attributes.generation
            return
        }
        guard attributes.generation != known else { return }
        guard !isModified, dirtyBlocks.isEmpty, inFlight.isEmpty else {
            // Unsent writes stay; what was cached goes, and the old contents under the writes
            // are read again when the data token is taken (`rebase`).
            cache.removeAll(inode: inode)
            knownVersions = [:]
            dropReadAhead()
            if isInline { try await reloadInlineKeepingWrites() }
            return
        }
        let (writesBefore, sizeBefore) = (writeCount, size)
        let fresh = try await metadata.fileLayout(of: inode)
        let inline = fresh.isInline ? try await metadata.readInline(inode) : nil
        // Another handle may have written, flushed or truncated while this waited (sqlite
        // extends its -shm while a second process opens it): that is newer than the answer,
        // and a reset now would drop it. Keep it; the next open revalidates again.
        guard writeCount == writesBefore, size == sizeBefore, knownGeneration == known,
              !isModified, dirtyBlocks.isEmpty, inFlight.isEmpty else { return }
        knownGeneration = attributes.generation
        reset(to: fresh, inlineBytes: inline)
        cache.validate(inode: inode, generation: attributes.generation)
    }

    /// The size to report instead of `attributes.size`: the size with unflushed writes, if there
    /// are any, or the size this file last published if `attributes` predate that (fetched
    /// before a flush of ours ended: their generation is older than the one the flush got).
    func localSize(over attributes: InodeAttributes) -> UInt64? {
        if isModified { return size }
        if let known = knownGeneration, let publishedSize, attributes.generation < known { return publishedSize }
        return nil
    }

    /// Starts over from `layout` after a truncation (everything was flushed before it).
    func reset(to layout: FileLayout, inlineBytes: [UInt8]?) {
        self.layout = layout
        size = layout.size
        storedSize = layout.size
        publishedSize = nil
        serviceThinksInline = layout.isInline
        isInline = layout.isInline || layout.size == 0
        self.inlineBytes = inlineBytes ?? []
        inlineWritten = ByteRangeSet()
        if isInline && UInt64(self.inlineBytes.count) < layout.size {
            self.inlineBytes += [UInt8](repeating: 0, count: Int(layout.size) - self.inlineBytes.count)
        }
        for index in Array(dirtyBlocks.keys) { _ = takeDirtyBlock(index) }
        knownVersions = [:]
        isModified = false
        lastReadEnd = 0
        dropReadAhead()
    }

    deinit {
        // A file dropped with writes unsent (its flush failed) gives their memory back.
        writeBudget.adjust(by: -dirtyBlocks.values.reduce(0) { $0 + $1.footprint })
    }

    /// Keeps `block` as the unsent writes of block `index`.
    func setDirtyBlock(_ block: DirtyBlock, at index: UInt64) {
        writeBudget.adjust(by: block.footprint - (dirtyBlocks.updateValue(block, forKey: index)?.footprint ?? 0))
    }

    /// Takes the unsent writes of block `index` out of the buffer (to send them, or to change
    /// them without copying the block).
    func takeDirtyBlock(_ index: UInt64) -> DirtyBlock? {
        guard let block = dirtyBlocks.removeValue(forKey: index) else { return nil }
        writeBudget.adjust(by: -block.footprint)
        return block
    }

    /// Remembers `version` as block `index`'s current one.
    func remember(version: UInt64, of index: UInt64) {
        if knownVersions.count >= Self.maximumKnownVersions { knownVersions = [:] }
        knownVersions[index] = version
    }

    func dropReadAhead(from firstIndex: UInt64 = 0) {
        for (index, task) in prefetches where index >= firstIndex {
            task.cancel()
            prefetches[index] = nil
        }
    }

    func takeDeferredError() throws {
        if let error = deferredError {
            deferredError = nil
            throw error
        }
    }
}
