import RadonWire

/// Waiting requests: queueing, granting in order, timeouts and deadlock detection.
extension LockManager {
    /// Queues `request` until it is granted, cancelled, its session ends or `maximumWait`
    /// passes.
    func wait(for request: SetLockRequest) async -> WaitOutcome {
        let serial = takeSerial()
        let key = WaitKey(session: request.session, token: request.waitToken)
        // A client re-asking with a token still waiting (a retried frame) replaces that wait.
        if let stale = waitsByToken[key] { resume(stale, .cancelled) }
        return await withCheckedContinuation { continuation in
            let limit = maximumWait
            let timer = Task { [weak self] in
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                await self?.resume((request.inode, serial), .timedOut)
            }
            waiters[request.inode, default: []].append(Waiter(serial: serial, request: request, continuation: continuation, timer: timer))
            waitsByToken[key] = (request.inode, serial)
        }
    }

    /// Ends the wait at `place` with `outcome`, if it still waits.
    func resume(_ place: (inode: UInt64, serial: UInt64), _ outcome: WaitOutcome) {
        guard let index = waiters[place.inode]?.firstIndex(where: { $0.serial == place.serial }) else { return }
        let waiter = waiters[place.inode]!.remove(at: index)
        if waiters[place.inode]!.isEmpty { waiters[place.inode] = nil }
        let key = WaitKey(session: waiter.request.session, token: waiter.request.waitToken)
        if waitsByToken[key]?.serial == place.serial { waitsByToken[key] = nil }
        waiter.timer.cancel()
        waiter.continuation.resume(returning: outcome)
    }

    /// Grants, oldest first, every waiter of `inode` that no lock stands in the way of now.
    ///
    /// One pass is enough: a grant only adds or strengthens locks (a waiting request is never
    /// a downgrade, which cannot conflict, and a flock conversion dropped its old lock when it
    /// was first tried), so it never unblocks a waiter behind it.
    func grantWaiters(on inode: UInt64) {
        for waiter in waiters[inode] ?? [] {
            let request = waiter.request
            guard let mode = request.mode else { continue }
            if table.lock(inode, kind: request.kind, owner: request.lockOwner, mode: mode, range: request.range, pid: request.pid) == nil {
                resume((inode, waiter.serial), .granted)
            }
        }
    }

    /// Whether `request`, waiting for the owners in its way, would close a cycle: one of them
    /// waits (directly or through others) for a lock of the requester. Only POSIX waits count,
    /// as in Linux (flock and OFD locks are never checked there; OFD locks are not told apart
    /// from POSIX ones here, so a cycle of OFD waiters gets EDEADLK rather than hanging).
    func wouldDeadlock(_ request: SetLockRequest) -> Bool {
        let requester = request.lockOwner
        var visited: Set<LockOwner> = []
        var pending = blockers(of: request)
        while let owner = pending.popLast() {
            if owner == requester { return true }
            guard visited.insert(owner).inserted else { continue }
            for waiter in waiters.values.joined() where waiter.request.kind == .posix && waiter.request.lockOwner == owner {
                pending.append(contentsOf: blockers(of: waiter.request))
            }
        }
        return false
    }

    /// The owners whose POSIX locks stand in the way of `request`.
    private func blockers(of request: SetLockRequest) -> [LockOwner] {
        guard let mode = request.mode else { return [] }
        return table.conflicts(on: request.inode, kind: .posix, owner: request.lockOwner, mode: mode, range: request.range).map(\.owner)
    }

    private func takeSerial() -> UInt64 {
        nextSerial += 1
        return nextSerial
    }
}
