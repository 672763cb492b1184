import Glibc

/// File locks: held by the metadata service for this client's session, so every client of
/// the cluster sees them, and released by the service when the session lapses (a client that
/// was SIGKILLed or cut off loses its locks after one lease).
///
/// Coherency as NFS gives it with locks: before a lock changes (unlock, or a change of mode)
/// the file's buffered writes are flushed, so they are at the service before another client
/// can take the lock; after a lock is granted the open file is revalidated against the
/// service, so reads under the lock see what the previous holder wrote.
extension RadonFileSystemClient {
    public func getLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode, range: LockRange) async throws -> LockConflict? {
        try await service {
            try await withSession { session in
                try await meta().testLock(TestLockRequest(session: session, inode: inode, owner: owner, mode: mode, range: range))
            }
        }
    }

    public func setLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, range: LockRange, pid: Int32, wait: Bool) async throws {
        try await changeLock(inode, owner: owner, kind: .posix, mode: mode, range: range, pid: pid, wait: wait)
    }

    public func flock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, pid: Int32, wait: Bool) async throws {
        try await changeLock(inode, owner: owner, kind: .flock, mode: mode, range: .wholeFile, pid: pid, wait: wait)
    }

    public func releaseLocks(_ inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) async throws {
        try await openFile(inode)?.flush()
        heldLocks.released(inode: inode, owner: owner, kinds: kinds)
        try await unlessSessionEnded {
            try await service { try await meta().releaseLocks(session: sessionID(), inode: inode, owner: owner, kinds: kinds) }
        }
    }

    /// Takes the locks this client held again under `session`, a new one that replaced a
    /// session the service forgot (it restarted or failed over): a lock nobody else took
    /// meanwhile is this client's again; one another client took is lost, logged as such, and
    /// forgotten here (the process holding it is not told: POSIX has no way to).
    func reclaimLocks(under session: UInt64) async {
        for (key, lock) in heldLocks.all {
            let request = SetLockRequest(session: session, inode: key.inode, owner: key.owner, kind: key.kind, mode: lock.mode,
                                         range: lock.range, pid: lock.pid, wait: false)
            do {
                _ = try await meta().setLock(request)
                logger.info("lock reclaimed in the new session", metadata: ["inode": "\(key.inode)", "range": "\(lock.range)"])
            } catch {
                heldLocks.changed(key, mode: nil, range: lock.range, pid: lock.pid)
                logger.error("lock lost: the metadata service forgot it and it could not be taken again", metadata: [
                    "inode": "\(key.inode)", "owner": "\(String(key.owner, radix: 16))", "kind": "\(key.kind)",
                    "range": "\(lock.range)", "pid": "\(lock.pid)", "error": "\(error)",
                ])
            }
        }
    }

    /// Fetches the file's attributes from the service (never the cache) and lets the open file
    /// drop what another client changed since it cached it.
    func revalidateOpenFile(_ inode: UInt64) async throws {
        guard let file = openFile(inode) else { return }
        let attributes = remember(try await service { try await meta().attributes(of: inode) })
        try await file.revalidate(with: attributes)
    }

    private func changeLock(_ inode: UInt64, owner: UInt64, kind: FileLockKind, mode: FileLockMode?, range: LockRange, pid: Int32, wait: Bool) async throws {
        try await openFile(inode)?.flush()
        guard let mode else {
            // The locks of an ended session are gone already: nothing is left to release.
            heldLocks.changed(HeldLocks.Key(inode: inode, owner: owner, kind: kind), mode: nil, range: range, pid: pid)
            try await unlessSessionEnded {
                let session = try await sessionID()
                _ = try await service { try await meta().setLock(SetLockRequest(session: session, inode: inode, owner: owner, kind: kind, mode: nil, range: range, pid: pid)) }
            }
            return
        }
        try await service {
            try await withSession { session in
                let request = SetLockRequest(session: session, inode: inode, owner: owner, kind: kind, mode: mode, range: range, pid: pid, wait: wait)
                guard wait else {
                    _ = try await meta().setLock(request)
                    return
                }
                try await LockWait.untilGranted { [self] token in
                    var attempt = request
                    attempt.waitToken = token
                    return try await meta().setLock(attempt)
                } cancel: { [self] token in
                    try? await meta().cancelLockWait(session: session, waitToken: token)
                }
            }
        }
        heldLocks.changed(HeldLocks.Key(inode: inode, owner: owner, kind: kind), mode: mode, range: range, pid: pid)
        try await revalidateOpenFile(inode)
    }

    /// Runs a release, taking a lapsed session as released already.
    private func unlessSessionEnded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as FileSystemError where error.errno == WireStatus.sessionExpired.errno {
            logger.debug("lock release after the session ended: \(error)")
        }
    }
}
