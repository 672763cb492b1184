extension MetaClient {
    /// Takes, changes or releases a lock. Throws EAGAIN when another owner's lock is in the way
    /// and `wait` is false, EDEADLK when waiting would close a cycle of POSIX waiters, EINTR
    /// when the wait was cancelled, `sessionExpired` (ESTALE) for a session that lapsed.
    /// Returns false when a wait ran out at the service with the lock still taken: ask again.
    public func setLock(_ request: SetLockRequest) async throws -> Bool {
        let reply: SetLockReply = try await call(.setLock, request)
        return reply.granted
    }

    /// The first lock standing in the way of the request (F_GETLK), or nil.
    public func testLock(_ request: TestLockRequest) async throws -> LockConflict? {
        let reply: TestLockReply = try await call(.testLock, request)
        return reply.conflict
    }

    /// Releases every lock of `owner` on `inode` of the given kinds.
    public func releaseLocks(session: UInt64, inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) async throws {
        let _: WireEmpty = try await call(.releaseLocks, ReleaseLocksRequest(session: session, inode: inode, owner: owner, kinds: kinds))
    }

    /// Cancels the session's waiting `setLock` named by `waitToken`, if it still waits.
    public func cancelLockWait(session: UInt64, waitToken: UInt64) async throws {
        let _: WireEmpty = try await call(.cancelLockWait, CancelLockWaitRequest(session: session, waitToken: waitToken))
    }
}
