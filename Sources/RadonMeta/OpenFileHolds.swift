import Synchronization

/// Which sessions have which files open: a file unlinked (or renamed over) while some session
/// has it open keeps its inode, with no name and nlink 0, until the last session closes it or
/// lapses; only then are its inode and fragments freed (POSIX: the data stays readable and
/// writable through open descriptors until the last close).
///
/// Counted per session (a client sends one openFile per open and one closeFile per close,
/// which may arrive in either order across connections), kept in memory: after a restart of
/// the service the clients assert their open files again, and orphans are not reaped until
/// one lease has passed. A `Mutex` (not an actor) so the store can ask `isOpen` inside a
/// transaction without waiting.
public final class OpenFileHolds: Sendable {
    private struct State {
        var counts: [UInt64: [UInt64: Int]] = [:]  // inode -> session -> opens
        var bySession: [UInt64: Set<UInt64>] = [:]  // session -> inodes
        /// Files that lost their last name while open: their last close frees them.
        var orphaned: Set<UInt64> = []
        /// Until then every file counts as open (see `assumeOpen(until:)`).
        var assumedOpenUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    public init() {}

    public func hold(_ inode: UInt64, session: UInt64) {
        state.withLock { state in
            state.counts[inode, default: [:]][session, default: 0] += 1
            state.bySession[session, default: []].insert(inode)
        }
    }

    /// One close of `inode` by `session`; true when no session has it open any more.
    @discardableResult
    public func release(_ inode: UInt64, session: UInt64) -> Bool {
        state.withLock { state in
            guard var sessions = state.counts[inode], let count = sessions[session] else { return state.counts[inode] == nil }
            if count > 1 {
                sessions[session] = count - 1
            } else {
                sessions[session] = nil
                state.bySession[session]?.remove(inode)
                if state.bySession[session]?.isEmpty == true { state.bySession[session] = nil }
            }
            state.counts[inode] = sessions.isEmpty ? nil : sessions
            return sessions.isEmpty
        }
    }

    /// The session is gone: the inodes no session has open any more.
    public func releaseAll(session: UInt64) -> [UInt64] {
        state.withLock { state in
            let inodes = state.bySession.removeValue(forKey: session) ?? []
            var closed: [UInt64] = []
            for inode in inodes {
                state.counts[inode]?[session] = nil
                if state.counts[inode]?.isEmpty == true {
                    state.counts[inode] = nil
                    closed.append(inode)
                }
            }
            return closed
        }
    }

    public func isOpen(_ inode: UInt64) -> Bool {
        state.withLock { state in
            if let until = state.assumedOpenUntil {
                if ContinuousClock.now < until { return true }
                state.assumedOpenUntil = nil
            }
            return state.counts[inode] != nil
        }
    }

    /// Counts every file as open until `instant`: a service that just started does not know
    /// yet which files its clients hold (they assert them again within a lease), so a file
    /// losing its last name meanwhile stays an orphan, freed by the orphan sweep after.
    public func assumeOpen(until instant: ContinuousClock.Instant) {
        state.withLock { $0.assumedOpenUntil = instant }
    }

    /// `inode` lost its last name while open: its last close is to free it.
    public func orphaned(_ inode: UInt64) {
        state.withLock { _ = $0.orphaned.insert(inode) }
    }

    /// Whether `inode` lost its last name while open (once: the answer is forgotten if it is
    /// no longer open), so a close of a file that still has a name costs no database read.
    public func wasOrphaned(_ inode: UInt64) -> Bool {
        state.withLock { state in
            guard state.orphaned.contains(inode) else { return false }
            if state.counts[inode] == nil { state.orphaned.remove(inode) }
            return true
        }
    }
}
