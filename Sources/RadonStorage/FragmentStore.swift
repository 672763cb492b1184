#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import RadonWire
import Synchronization

/// The fragments of one storage daemon, kept in a local directory.
///
/// Layout: `<dir>/g<group>/<inode>.<fragmentIndex>`, one file per (file, fragment index): a
/// `FragmentFileHeader` then fixed-size slots, slot b holding block b's fragment behind a
/// `SlotHeader` (version, effective length, CRC32C). Unwritten slots are holes and read as
/// missing. Files made since format 2 end each slot with a `SlotChunkTable`, so a range read
/// checks only the chunks it covers. Disk I/O runs on a dedicated thread pool, never on the
/// caller's thread, with one exception that never waits for a disk: a range read whose bytes
/// are all in the page cache is served in place (`readRange`). Writes are fsync'd (and the
/// directory too when a file is created) before they return, except a client's write of new
/// data that asked to defer it (`write(_:fragmentCapacity:slots:keepPrevious:deferSync:)`),
/// which `synchronize(_:)` makes durable.
public final class FragmentStore: Sendable {
    /// The data directory.
    public let directory: String
    private let threadPool: NIOThreadPool
    private let slotLocks = SlotLocks()
    private let fileCount: Atomic<Int>
    /// The data directory's lock file, held (an exclusive `flock`) until `shutdown()`; -1 after.
    private let lockDescriptor: Atomic<Int32>

    /// The largest fragment capacity a file may declare (a slot must fit a frame).
    public static let maximumFragmentCapacity: UInt32 = 16 * 1024 * 1024
    /// Bytes of fragments one read reply carries at most; the client asks again for the rest.
    static let readReplyBudget = 16 * 1024 * 1024 - 64 * 1024
    /// Results one read reply carries at most.
    static let readReplyMaximumCount = 65_536

    /// Opens (creating if needed) the store in `directory`, refusing one another daemon holds.
    public init(directory: String, ioThreads: Int = 8) throws {
        self.directory = directory
        if mkdir(directory, PrivateState.directoryMode) != 0, errno != EEXIST {
            throw POSIXFile.error("mkdir", directory)
        }
        // Fragments are the files' bytes: nobody but us passes through (also a directory an
        // older version made 0755).
        PrivateState.tighten(directory)
        let existingFiles = try Self.countFragmentFiles(in: directory)
        let lockPath = directory + "/.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, PrivateState.fileMode)
        guard descriptor >= 0 else { throw POSIXFile.error("open", lockPath) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw WireError(.unavailable, "\(directory) is in use by another storage daemon")
        }
        lockDescriptor = Atomic(descriptor)
        threadPool = NIOThreadPool(numberOfThreads: ioThreads)
        threadPool.start()
        fileCount = Atomic(existingFiles)
    }

    deinit {
        releaseDirectory()
    }

    /// Stops the I/O threads (after the calls in flight) and releases the directory, so another
    /// daemon (or this one, restarted) can open it.
    public func shutdown() async {
        try? await threadPool.shutdownGracefully()
        releaseDirectory()
    }

    private func releaseDirectory() {
        let descriptor = lockDescriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { close(descriptor) }
    }

    /// How many fragment files the store holds.
    public var fragmentFileCount: Int { fileCount.load(ordering: .relaxed) }

    func onIOThread<Result: Sendable>(_ body: @Sendable @escaping () throws -> Result) async throws -> Result {
        do {
            return try await threadPool.runIfActive(body)
        } catch let error as WireError {
            throw error
        } catch let error as NIOThreadPoolError.ThreadPoolInactive {
            throw WireError(.unavailable, "the store is shutting down (\(error))")
        }
    }

    func path(of file: FragmentFileKey) -> String {
        "\(groupDirectory(file.group))/\(file.inode).\(file.fragmentIndex)"
    }

    func groupDirectory(_ group: UInt32) -> String {
        "\(directory)/g\(group)"
    }

    func withSlotLock<Result: Sendable>(_ file: FragmentFileKey, block: UInt64, _ body: () throws -> Result) rethrows -> Result {
        try slotLocks.withLock(file: file, block: block, body)
    }

    func fileCreated() { fileCount.add(1, ordering: .relaxed) }
    func filesRemoved(_ count: Int) { fileCount.subtract(count, ordering: .relaxed) }
}

/// Serializes the read-check-write of one slot against other writers and readers of the same
/// slot (a reader must never see a half-written slot and call it corrupt). Striped: one lock
/// guards many slots; a caller holds one at a time, so there is no lock order to get wrong.
private final class SlotLocks: Sendable {
    private final class Stripe: Sendable {
        let mutex = Mutex(())
    }

    private let stripes: [Stripe] = (0..<256).map { _ in Stripe() }

    func withLock<Result: Sendable>(file: FragmentFileKey, block: UInt64, _ body: () throws -> Result) rethrows -> Result {
        var hasher = Hasher()
        hasher.combine(file)
        hasher.combine(block)
        let stripe = stripes[Int(UInt(bitPattern: hasher.finalize()) % UInt(stripes.count))]
        return try stripe.mutex.withLock { _ in try body() }
    }
}
