import CFUSE3
import Dispatch
import Glibc
import Logging
import RadonClient
import Synchronization

/// Receives every kernel request of one mount and answers it from async code.
///
/// The libfuse callbacks only copy their arguments and call one method here; each method starts
/// a task that awaits the `FileSystemOperations` call and replies with `fuse_reply_*` from
/// whatever thread it finishes on. So a slow metadata or storage round trip never holds a
/// libfuse worker thread, and many requests are in flight at once.
final class MountDispatcher: Sendable {
    let fileSystem: any FileSystemOperations
    let logger: Logger
    let options: MountOptions
    let mountPoint: String
    let timeouts: CacheTimeouts
    /// The session, as a bit pattern, once it exists: used to tell the kernel to drop caches.
    private let sessionAddress = Atomic<UInt>(0)
    /// Inodes known to have no `security.capability`, until when (see getxattr).
    let capabilityAbsence = Mutex<[UInt64: ContinuousClock.Instant]>([:])
    /// The lock owners that may hold locks, so a close asks the service only when needed.
    let lockHolders = Mutex(LockHolders())
    /// Requests whose task has not answered yet; the session is freed only when this is zero.
    private let requestsInFlight = Atomic<Int>(0)
    let metrics = MountMetrics()

    init(fileSystem: any FileSystemOperations, mountPoint: String, options: MountOptions, logger: Logger) {
        self.fileSystem = fileSystem
        self.mountPoint = mountPoint
        self.options = options
        self.logger = logger
        self.timeouts = CacheTimeouts(attributes: options.attributeTimeout, entries: options.entryTimeout)
    }

    /// The dispatcher a request belongs to (the session's user data).
    static func of(_ request: fuse_req_t?) -> MountDispatcher {
        Unmanaged<MountDispatcher>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }

    func attach(session: OpaquePointer) {
        sessionAddress.store(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session))), ordering: .releasing)
    }

    var session: OpaquePointer? {
        OpaquePointer(bitPattern: sessionAddress.load(ordering: .acquiring))
    }

    var pendingRequestCount: Int { requestsInFlight.load(ordering: .acquiring) }

    /// Runs `body` in a task; a thrown error becomes the request's errno. `body` replies itself
    /// on success and must not throw after replying.
    ///
    /// `staleWhenMissing` is for requests on the inode the kernel found by a path (getattr,
    /// setattr, access, open, readlink, xattrs): there ENOENT means that inode is gone, most
    /// often unlinked from another mount while this kernel still caches the name. The answer is
    /// then ESTALE, on which the kernel walks the path again with a fresh lookup (LOOKUP_REVAL)
    /// and retries once, so `open(O_CREAT)` creates the file anew and `stat` says ENOENT, as
    /// on a local disk. Without it, sqlite's journal on a second mount failed with
    /// SQLITE_CANTOPEN: its cached name for a journal the first mount had deleted.
    func serve(
        _ request: FUSERequest, _ operation: StaticString, staleWhenMissing: Bool = false,
        _ body: @escaping @Sendable () async throws -> Void
    ) {
        requestsInFlight.add(1, ordering: .relaxed)
        let instruments = metrics.operation(operation)
        let started = ContinuousClock.now
        Task {
            defer {
                instruments.duration.record(duration: ContinuousClock.now - started)
                requestsInFlight.subtract(1, ordering: .releasing)
            }
            do {
                try await body()
            } catch {
                instruments.errors.increment()
                let number = errorNumber(for: error, in: operation)
                request.replyError(staleWhenMissing && number == ENOENT ? ESTALE : number)
            }
        }
    }

    /// The errno for `error`; unexpected errors become EIO and are logged.
    func errorNumber(for error: any Error, in operation: StaticString) -> Int32 {
        if let error = error as? FileSystemError {
            // EAGAIN, EINTR and EDEADLK are a lock's ordinary answers (busy, interrupted, a cycle).
            let expected: Set<Int32> = [ENOENT, EEXIST, ENODATA, ERANGE, ENOTEMPTY, EACCES, EPERM, ENAMETOOLONG, ENOTDIR, EISDIR, EAGAIN, EINTR, EDEADLK]
            if expected.contains(error.errno) {
                logger.trace("\(operation): \(error)")
            } else {
                logger.warning("\(operation) failed: \(error)")
            }
            return error.errno > 0 ? error.errno : EIO
        }
        logger.error("\(operation) failed: \(String(describing: error))")
        return EIO
    }

    /// Tells the kernel to drop its cached pages and attributes of `inode`, and returns when it
    /// has: after a lock is granted, reads must see what other mounts wrote under the lock.
    ///
    /// The kernel answers this only once the inode's pages are unlocked and its dirty mapped
    /// pages written back, which takes this mount's answers to reads and writes of the inode.
    /// So it runs on a Dispatch thread, never a libfuse worker or a thread of the cooperative
    /// pool: with two locks granted at once, two pool threads blocked here starved the tasks
    /// that answer those reads and writes (sqlite on mmap'd -shm files hung that way).
    func invalidateCachedData(of inode: UInt64) async {
        guard let session else { return }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session)))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Self.invalidations.async {
                _ = fuse_lowlevel_notify_inval_inode(OpaquePointer(bitPattern: address), inode, 0, 0)
                continuation.resume()
            }
        }
    }

    /// Where page-cache invalidations wait for the kernel (see `invalidateCachedData`).
    static let invalidations = DispatchQueue(label: "radonfs.invalidations", attributes: .concurrent)

    /// Tells the kernel its cached attributes of `inode` are stale, so the next stat, or a read
    /// past the end it knew, asks again. Used on open to give close-to-open between mounts.
    func invalidateCachedAttributes(of inode: UInt64) {
        guard let session else { return }
        // A negative offset drops the attributes only; pages are dropped by open itself.
        _ = fuse_lowlevel_notify_inval_inode(session, inode, -1, 0)
    }
}
