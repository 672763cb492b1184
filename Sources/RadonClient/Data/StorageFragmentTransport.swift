import NIOCore
import Synchronization

/// `FragmentTransport` over `StorageClient`s on pooled, multiplexed connections; every request
/// to a node with several network paths goes through `router`.
struct StorageFragmentTransport: FragmentTransport {
    let pool: WireConnectionPool
    /// Spreads requests over a node's paths; a node it does not know is reached as before.
    let router: MultipathRouter
    /// How long one read may take before the node counts as failed (the reader falls back).
    var readTimeout: Duration = .seconds(10)
    /// How long one write (including the node's fsync) may take.
    var writeTimeout: Duration = .seconds(30)
    /// On a node with several paths, how long a read waits on one path before it is sent on
    /// another live one too (a link that went down answers nothing, it refuses nothing).
    var readSilentAfter: Duration = .milliseconds(400)
    /// The same for a fragment write, which includes the node's fsync.
    var writeSilentAfter: Duration = .milliseconds(600)

    init(pool: WireConnectionPool, router: MultipathRouter? = nil) {
        self.pool = pool
        self.router = router ?? MultipathRouter(pool: pool)
    }

    func client(_ address: WireAddress, timeout: Duration) async throws -> StorageClient {
        StorageClient(connection: try await pool.connection(to: address), timeout: timeout)
    }

    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt {
        // A slot that already holds a newer version keeps it: a later write won, which is what
        // a reader will see anyway, so it is no failure of this one. Sent again on another path,
        // the same version overwrites the slot with the same bytes.
        let sends = Mutex(0)
        let reply = try await router.perform(on: address, silentAfter: writeSilentAfter) { [self] path in
            sends.withLock { $0 += 1 }
            return try await client(path, timeout: writeTimeout).writeFragment(
                group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex), fragmentCapacity: UInt32(fragmentCapacity),
                slot: FragmentSlotWrite(blockIndex: blockIndex, version: version, effectiveLength: UInt32(effectiveLength), bytes: bytes,
                                        checksum: checksum),
                keepPrevious: keepPrevious, deferSync: deferSync)
        }
        // Sent on two paths, the copy that landed first may have kept the previous version, or
        // created the file and deferred its fsync, while the one that answered found the slot
        // already written and did neither: say both, so the client drops the copy and syncs the
        // file once the write is durable (neither is harmful when there is nothing to do).
        let resent = sends.withLock { $0 } > 1
        let keptPrevious = (keepPrevious && resent) || reply.blocksWithPrevious.contains(blockIndex)
        let deferred = reply.syncDeferred || (deferSync && resent)
        return FragmentWriteReceipt(keptPrevious: keptPrevious, deferredUnderBoot: deferred ? reply.boot : nil)
    }

    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64 {
        try await router.perform(on: address, silentAfter: writeSilentAfter) { [self] path in
            try await client(path, timeout: writeTimeout).syncFile(group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex))
        }
    }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        await answer(from: address, blockIndex: blockIndex) { @Sendable storage in
            try await storage.readFragments(group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex), blockIndices: [blockIndex])
        }
    }

    func readPrevious(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        await answer(from: address, blockIndex: blockIndex) { @Sendable storage in
            try await storage.readPreviousFragments(group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex), blockIndices: [blockIndex])
        }
    }

    /// The one result `read` gets from the node at `address`, as a `FragmentAnswer`.
    private func answer(
        from address: WireAddress, blockIndex: UInt64, _ read: @escaping @Sendable (StorageClient) async throws -> [FragmentReadResult]
    ) async -> FragmentAnswer {
        do {
            let results = try await router.perform(on: address, silentAfter: readSilentAfter) { [self] path in
                try await read(try await client(path, timeout: readTimeout))
            }
            guard let result = results.first, result.blockIndex == blockIndex else {
                return .failed("node \(address) answered for another block")
            }
            return FragmentAnswer(result.fragment)
        } catch {
            return .failed("\(address): \(error)")
        }
    }

    // dropPrevious, truncate and delete are idempotent (dropping what is gone, cutting a file
    // already cut, deleting a deleted file change nothing), so they too may be sent again on
    // another path when one falls silent.

    func dropPrevious(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64, version: UInt64) async throws {
        try await router.perform(on: address, silentAfter: readSilentAfter) { [self] path in
            try await client(path, timeout: readTimeout).dropPrevious(
                group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex), slots: [(blockIndex, version)])
        }
    }

    func truncate(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockCount: UInt64) async throws {
        try await router.perform(on: address, silentAfter: writeSilentAfter) { [self] path in
            try await client(path, timeout: writeTimeout).truncate(group: group, inode: inode, blockCount: blockCount)
        }
    }

    func delete(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws {
        _ = try await router.perform(on: address, silentAfter: writeSilentAfter) { [self] path in
            try await client(path, timeout: writeTimeout).deleteFile(group: group, inode: inode)
        }
    }
}

extension FragmentAnswer {
    /// A daemon's result as an answer, its checksum passed along unchecked.
    init(_ stored: StoredFragment) {
        switch stored {
        case .present(let version, let effectiveLength, let bytes, let checksum):
            self = .present(version: version, effectiveLength: Int(effectiveLength), bytes: bytes, checksum: checksum)
        case .missing: self = .missing
        case .corrupt: self = .corrupt
        }
    }
}
