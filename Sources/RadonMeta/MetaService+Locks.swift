import RadonWire

/// The file-lock opcodes: each goes to the `LockManager`.
extension MetaService {
    func dispatchLock(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let locks = self.locks
        switch opcode {
        case .setLock:
            return await answer(request) { (r: SetLockRequest) in SetLockReply(granted: try await locks.set(r)) }
        case .testLock:
            return await answer(request) { (r: TestLockRequest) in TestLockReply(conflict: try await locks.test(r)) }
        case .releaseLocks:
            return await answer(request) { (r: ReleaseLocksRequest) in await locks.release(r); return WireEmpty() }
        case .cancelLockWait:
            return await answer(request) { (r: CancelLockWaitRequest) in await locks.cancelWait(r); return WireEmpty() }
        default:
            return .failure(.badRequest, "not a lock opcode: \(opcode)")
        }
    }
}
