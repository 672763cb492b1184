import RadonWire

/// The file-lock opcodes: each goes to the `LockManager`.
extension MetaService {
    ///
    /// A lock is taken only for a live session (`sessionExpired` otherwise, and the client opens
    /// a new one); the lock manager also refuses sessions that ended while a request was on its
    /// way, so no lock outlives its session. Releases need no live session.
    func dispatchLock(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let (locks, sessions) = (self.locks, self.sessions)
        switch opcode {
        case .setLock:
            return await answer(request) { (r: SetLockRequest) in
                if r.mode != nil { try await sessions.requireLive(r.session) }
                return SetLockReply(granted: try await locks.set(r))
            }
        case .testLock:
            return await answer(request) { (r: TestLockRequest) in
                try await sessions.requireLive(r.session)
                return TestLockReply(conflict: try await locks.test(r))
            }
        case .releaseLocks:
            return await answer(request) { (r: ReleaseLocksRequest) in await locks.release(r); return WireEmpty() }
        case .cancelLockWait:
            return await answer(request) { (r: CancelLockWaitRequest) in await locks.cancelWait(r); return WireEmpty() }
        default:
            return .failure(.badRequest, "not a lock opcode: \(opcode)")
        }
    }
}
