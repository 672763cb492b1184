extension MetaClient {
    /// Opens a client session; it lapses unless renewed within its lease.
    public func openSession(clientName: String) async throws -> SessionLease {
        try await call(.openSession, OpenSessionRequest(clientName: clientName))
    }

    /// Extends the session's lease; fails with `WireStatus.sessionExpired` once it lapsed.
    public func renewSession(_ session: UInt64) async throws -> SessionLease {
        try await call(.renewSession, SessionRequest(session: session))
    }

    /// Ends the session at once: its locks, data tokens and open-file holds are released.
    public func closeSession(_ session: UInt64) async throws {
        let _: WireEmpty = try await call(.closeSession, SessionRequest(session: session))
    }

    /// Takes the data token of `inode` (exclusive: one session at a time sends blocks of a
    /// file), waiting up to `wait` for its holder. Nil attributes: still held elsewhere.
    public func acquireDataToken(session: UInt64, inode: UInt64, wait: Duration) async throws -> DataTokenGrant {
        try await call(.acquireDataToken, AcquireDataTokenRequest(session: session, inode: inode, waitMilliseconds: wait.wireMilliseconds))
    }

    /// Hands the data token of `inode` back (after publishing what was sent under it).
    public func releaseDataToken(session: UInt64, inode: UInt64) async throws {
        let _: WireEmpty = try await call(.releaseDataToken, SessionInodeRequest(session: session, inode: inode))
    }

    /// The attributes (and layout, for a regular file) of `inode`, recording that `session`
    /// has it open once more: while any session does, its last unlink keeps the inode (nlink 0)
    /// and its data. Each openFile is matched by one closeFile.
    public func openFile(session: UInt64, inode: UInt64, opener: SessionInodeRequest.Opener? = nil) async throws -> OpenFileReply {
        try await call(.openFile, SessionInodeRequest(session: session, inode: inode, opener: opener))
    }

    /// `session` closed its last handle on `inode`.
    public func closeFile(session: UInt64, inode: UInt64) async throws {
        let _: WireEmpty = try await call(.closeFile, SessionInodeRequest(session: session, inode: inode))
    }
}
