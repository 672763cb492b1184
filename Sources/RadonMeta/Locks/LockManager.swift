import Glibc
import RadonWire

/// The cluster's file locks as a service: a `LockTable`, and the requests waiting for it.
///
/// A waiting request (F_SETLKW, a blocking flock) is held here until the locks in its way go,
/// at most `maximumWait`; then it is answered "still blocked" and the client asks again. So
/// no request hangs forever, and the waits of a client that died vanish within one round.
/// When locks are released, the waiters of that inode are tried again in the order they came
/// (FIFO where possible: a later waiter that fits is granted even if an earlier one still
/// does not, as Linux does). A waiting POSIX request that would close a cycle of owners
/// waiting for each other is refused with EDEADLK, as Linux refuses it.
///
/// Locks belong to client sessions: `endSession` (the registry's expiry handler) drops every
/// lock and wait of a session that lapsed or closed, and refuses requests still in flight
/// from it, so a lock is never granted to a session that is gone.
///
/// Invariant: every waiter is in `waiters[inode]` and `waitsByToken` at once, and is resumed
/// exactly once, by whichever of grant, timeout, cancel or session end comes first (each
/// removes it from both before resuming it).
public actor LockManager {
    /// How a wait ended.
    enum WaitOutcome: Sendable {
        case granted
        case timedOut
        case cancelled
        case sessionEnded
    }

    struct Waiter {
        let serial: UInt64
        let request: SetLockRequest
        let continuation: CheckedContinuation<WaitOutcome, Never>
        /// Ends the wait after `maximumWait`; cancelled when the wait ends otherwise.
        let timer: Task<Void, Never>
    }

    struct WaitKey: Hashable {
        var session: UInt64
        var token: UInt64
    }

    var table = LockTable()
    /// Waiting requests per inode, oldest first.
    var waiters: [UInt64: [Waiter]] = [:]
    /// Where each wait is, by the client's token: (inode, serial).
    var waitsByToken: [WaitKey: (inode: UInt64, serial: UInt64)] = [:]
    var nextSerial: UInt64 = 0
    /// Sessions ended recently, and when: requests still in flight from them are refused.
    private var endedSessions: [UInt64: ContinuousClock.Instant] = [:]
    /// The longest a request waits before it is answered "still blocked".
    public let maximumWait: Duration

    public init(maximumWait: Duration = .seconds(10)) {
        precondition(maximumWait > .zero, "a lock wait must be bounded")
        self.maximumWait = maximumWait
    }

    /// Takes, changes or releases a lock.
    ///
    /// - Returns: true when done; false when `request.wait` and the lock was still in the way
    ///   after `maximumWait` (the client asks again).
    /// - Throws: EAGAIN (in the way, not waiting), EDEADLK (waiting would deadlock), EINTR
    ///   (the wait was cancelled), `sessionExpired` (the session ended).
    public func set(_ request: SetLockRequest) async throws -> Bool {
        try requireLive(request.session)
        let owner = request.lockOwner
        guard let mode = request.mode else {
            table.unlock(request.inode, kind: request.kind, owner: owner, range: request.range)
            grantWaiters(on: request.inode)
            return true
        }
        guard let conflict = table.lock(request.inode, kind: request.kind, owner: owner, mode: mode, range: request.range, pid: request.pid) else {
            // A downgrade or a merge can free bytes others wait for.
            grantWaiters(on: request.inode)
            return true
        }
        // A failed flock conversion dropped the old lock: others may go first now.
        if request.kind == .flock { grantWaiters(on: request.inode) }
        guard request.wait else {
            throw FileSystemError(EAGAIN, "\(request.kind) lock \(request.range) of inode \(request.inode) held: \(conflict)")
        }
        if request.kind == .posix, wouldDeadlock(request) {
            throw FileSystemError(EDEADLK, "waiting for inode \(request.inode) \(request.range) would deadlock")
        }
        switch await wait(for: request) {
        case .granted: return true
        case .timedOut: return false
        case .cancelled: throw FileSystemError(EINTR, "lock wait cancelled")
        case .sessionEnded: throw Self.sessionEnded(request.session)
        }
    }

    /// F_GETLK: the first lock in the way of `request`, or nil.
    public func test(_ request: TestLockRequest) throws -> LockConflict? {
        try requireLive(request.session)
        return table.firstConflict(on: request.inode, kind: .posix, owner: request.lockOwner, mode: request.mode, range: request.range)?.conflict
    }

    /// Releases every lock of one owner on one inode of `kinds` (close, last release).
    public func release(_ request: ReleaseLocksRequest) {
        table.releaseAll(request.inode, owner: request.lockOwner, kinds: request.kinds)
        grantWaiters(on: request.inode)
    }

    /// Cancels a wait of the session, if it still waits: it is answered EINTR.
    public func cancelWait(_ request: CancelLockWaitRequest) {
        guard let place = waitsByToken[WaitKey(session: request.session, token: request.waitToken)] else { return }
        resume(place, .cancelled)
    }

    /// Drops every lock and wait of `session` (it lapsed or closed) and passes the locks on.
    public func endSession(_ session: UInt64) {
        let now = ContinuousClock.now
        endedSessions = endedSessions.filter { now - $0.value < Self.endedSessionMemory }
        endedSessions[session] = now
        for (key, place) in waitsByToken where key.session == session { resume(place, .sessionEnded) }
        for inode in table.releaseAll(session: session) { grantWaiters(on: inode) }
    }

    /// How long an ended session is remembered: far longer than a request takes to go from
    /// the registry's liveness check to this actor.
    static let endedSessionMemory: Duration = .seconds(120)

    private func requireLive(_ session: UInt64) throws {
        if endedSessions[session] != nil { throw Self.sessionEnded(session) }
    }

    static func sessionEnded(_ session: UInt64) -> WireError {
        WireError(.sessionExpired, "session \(String(session, radix: 16)) has ended: its locks are gone")
    }
}
