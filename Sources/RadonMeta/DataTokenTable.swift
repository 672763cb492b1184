/// The data token of each file being written: at most one session at a time sends a file's
/// blocks.
///
/// A partly written block leaves a client as a read-modify-write: the client reads the
/// block's old contents and sends them back with its bytes laid over them. Two clients doing
/// that to one block at once would each write back the other's old bytes, so a client takes
/// the file's token before it sends any block and hands it back only after publishing what it
/// sent (its flush), and the token's grant tells it whether the file changed since it last
/// looked (then its cached blocks and the bases it read are stale). Readers need no token:
/// close-to-open consistency comes from the generation checked at open.
///
/// Invariants: a token has at most one holder; a waiter is in at most one queue and is resumed
/// exactly once (granted, timed out, or its session gone); waiters are granted in arrival order.
public actor DataTokenTable {
    struct Waiter {
        var id: UInt64
        var session: UInt64
        var continuation: CheckedContinuation<Bool, Never>
    }

    private var holders: [UInt64: UInt64] = [:]
    private var waiters: [UInt64: [Waiter]] = [:]
    private var nextWaiter: UInt64 = 0

    public init() {}

    /// Takes the token of `inode` for `session` (at once if free or already its own), waiting up
    /// to `wait` for the holder to hand it back. False: still held by another session.
    public func acquire(session: UInt64, inode: UInt64, wait: Duration) async -> Bool {
        if holders[inode] == nil || holders[inode] == session {
            holders[inode] = session
            return true
        }
        guard wait > .zero else { return false }
        nextWaiter += 1
        let id = nextWaiter
        return await withCheckedContinuation { continuation in
            waiters[inode, default: []].append(Waiter(id: id, session: session, continuation: continuation))
            Task { [weak self] in
                try? await Task.sleep(for: wait)
                await self?.giveUp(waiter: id, inode: inode)
            }
        }
    }

    /// Hands the token back; the first waiter gets it. Nothing happens unless `session` holds it.
    public func release(session: UInt64, inode: UInt64) {
        guard holders[inode] == session else { return }
        holders[inode] = nil
        grantNext(inode)
    }

    /// The session is gone: its tokens pass on and its waits end unanswered.
    public func releaseAll(session: UInt64) {
        for (inode, queue) in waiters {
            let (leaving, staying) = (queue.filter { $0.session == session }, queue.filter { $0.session != session })
            waiters[inode] = staying.isEmpty ? nil : staying
            for waiter in leaving { waiter.continuation.resume(returning: false) }
        }
        for (inode, holder) in holders where holder == session { release(session: session, inode: inode) }
    }

    /// Tokens `session` holds that another session waits for.
    public func wanted(from session: UInt64) -> [UInt64] {
        holders.compactMap { inode, holder in holder == session && waiters[inode]?.isEmpty == false ? inode : nil }
    }

    public func holder(of inode: UInt64) -> UInt64? { holders[inode] }

    private func grantNext(_ inode: UInt64) {
        guard var queue = waiters[inode], !queue.isEmpty else { return }
        let next = queue.removeFirst()
        waiters[inode] = queue.isEmpty ? nil : queue
        holders[inode] = next.session
        next.continuation.resume(returning: true)
    }

    private func giveUp(waiter id: UInt64, inode: UInt64) {
        guard var queue = waiters[inode], let index = queue.firstIndex(where: { $0.id == id }) else { return }
        let waiter = queue.remove(at: index)
        waiters[inode] = queue.isEmpty ? nil : queue
        waiter.continuation.resume(returning: false)
    }
}
