import CFUSE3
import Glibc
import RadonClient

/// getlk, setlk and flock, and the releases at close: every lock lives in the metadata service
/// (through the core), so locks hold across all mounts of the cluster.
extension MountDispatcher {
    func getLock(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo, lock: flock) {
        guard let (mode, range) = Self.lockRequest(lock) else { return request.replyError(EINVAL) }
        serve(request, "getlk") { [self] in
            var answer = lock
            answer.l_whence = Int16(SEEK_SET)
            if let mode, let conflict = try await fileSystem.getLock(inode, owner: info.lockOwner, mode: mode, range: range) {
                answer.l_type = Int16(conflict.mode == .shared ? F_RDLCK : F_WRLCK)
                answer.l_start = Int(conflict.range.start)
                // l_len 0 is "to end of file"; libfuse turns it back into OFFSET_MAX.
                answer.l_len = conflict.range.reachesEndOfFile ? 0 : Int(conflict.range.end - conflict.range.start + 1)
                answer.l_pid = conflict.pid
            } else {
                answer.l_type = Int16(F_UNLCK)
            }
            _ = fuse_reply_lock(request.raw, &answer)
        }
    }

    func setLock(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo, lock: flock, wait: Bool) {
        guard let (mode, range) = Self.lockRequest(lock) else { return request.replyError(EINVAL) }
        if mode != nil {
            lockHolders.withLock { $0.record(inode, owner: info.lockOwner, handle: info.handle) }
        }
        serve(request, "setlk") { [self] in
            try await request.interruptible { [self] in
                try await fileSystem.setLock(inode, owner: info.lockOwner, mode: mode, range: range, pid: lock.l_pid, wait: wait)
            }
            if mode != nil { await invalidateCachedData(of: inode) }
            request.replyOK()
        }
    }

    func flock(_ request: FUSERequest, inode: UInt64, info: OpenFileInfo, operation: Int32) {
        let mode: FileLockMode?
        switch operation & ~LOCK_NB {
        case LOCK_SH: mode = .shared
        case LOCK_EX: mode = .exclusive
        case LOCK_UN: mode = nil
        default: return request.replyError(EINVAL)
        }
        let pid = request.context.pid
        serve(request, "flock") { [self] in
            try await request.interruptible { [self] in
                try await fileSystem.flock(inode, owner: info.lockOwner, mode: mode, pid: pid, wait: operation & LOCK_NB == 0)
            }
            if mode != nil { await invalidateCachedData(of: inode) }
            request.replyOK()
        }
    }

    /// At close: the POSIX locks of the closing process on the file, if it may hold any.
    func releasePosixLocks(_ inode: UInt64, owner: UInt64) async throws {
        guard lockHolders.withLock({ $0.takePosix(inode, owner: owner) }) else { return }
        try await fileSystem.releaseLocks(inode, owner: owner, kinds: [.posix])
    }

    /// At the last release of a description: its flock lock and the OFD locks taken through it.
    func releaseDescriptionLocks(_ inode: UInt64, handle: UInt64, flockOwner: UInt64?) async throws {
        let holders = lockHolders.withLock { $0.takeHandle(handle) }
        for holder in holders {
            try await fileSystem.releaseLocks(holder.inode, owner: holder.owner, kinds: holder.owner == flockOwner ? [.posix, .flock] : [.posix])
        }
        if let flockOwner, !holders.contains(where: { $0.owner == flockOwner }) {
            try await fileSystem.releaseLocks(inode, owner: flockOwner, kinds: [.flock])
        }
    }

    /// The mode (nil: F_UNLCK) and range of a `struct flock` as libfuse hands it over: l_whence
    /// SEEK_SET, l_len 0 for "to end of file" (the kernel's OFFSET_MAX); nil when malformed.
    static func lockRequest(_ lock: flock) -> (FileLockMode?, LockRange)? {
        let mode: FileLockMode?
        switch Int32(lock.l_type) {
        case F_RDLCK: mode = .shared
        case F_WRLCK: mode = .exclusive
        case F_UNLCK: mode = nil
        default: return nil
        }
        guard lock.l_start >= 0, lock.l_len >= 0 else { return nil }
        let start = UInt64(lock.l_start)
        if lock.l_len == 0 || lock.l_len > Int.max - lock.l_start || lock.l_start + lock.l_len - 1 == Int.max {
            return (mode, LockRange(start: start, end: .max))
        }
        return (mode, LockRange(start: start, end: start + UInt64(lock.l_len) - 1))
    }
}
