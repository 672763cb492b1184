import Logging
import RadonWire
import Synchronization

/// One term of a metadata server as the active one: what answers requests and what works in the
/// background, made afresh at each takeover (new sessions, locks, data tokens; the store opened
/// again, so nothing cached by an earlier term is trusted).
public struct ActiveTerm: Sendable {
    /// The leadership epoch the store fences its writes with; nil without leadership (one server).
    public var epoch: Int64?
    /// Answers one request.
    public var handle: @Sendable (WireRequest) async -> WireResponse
    /// The sweeps, healing and deletions; runs until its task is cancelled.
    public var background: @Sendable () async -> Void
    /// Releases the store once the term is over (after `background` was cancelled).
    public var close: @Sendable () async -> Void

    public init(
        epoch: Int64?, handle: @escaping @Sendable (WireRequest) async -> WireResponse,
        background: @escaping @Sendable () async -> Void, close: @escaping @Sendable () async -> Void = {}
    ) {
        self.epoch = epoch
        self.handle = handle
        self.background = background
        self.close = close
    }
}

/// Whether this metadata server is the active one, and the gate every request passes.
///
/// A standby answers every request with `notActive` (the client asks the next address) and runs
/// no background work. Invariants:
/// - a request is handed to a term only while that term is current and its lease is valid by
///   our monotonic clock (`validUntil`), so a server frozen past its lease refuses requests the
///   instant it wakes, before its leadership loop has even run;
/// - a request that fails while its term ended under it answers `notActive` too, so the
///   client retries at the new active instead of seeing the error of a closed store;
/// - at most one term exists; a term's background task is cancelled before its store closes.
public final class MetaServerRole: LeadershipFollower {
    struct Current: Sendable {
        var serial: UInt64
        var term: ActiveTerm
        /// nil: no lease (a lone server).
        var validUntil: ContinuousClock.Instant?
        var background: Task<Void, Never>
    }

    /// The active term, if any, and a serial that tells terms apart.
    let state = Mutex<(current: Current?, serial: UInt64)>((nil, 0))
    let openTerm: @Sendable (_ epoch: Int64?) async throws -> ActiveTerm
    let logger: Logger

    /// - Parameter openTerm: makes a term (opens the store, sets its fencing epoch, builds the
    ///   service); a throw leaves the server standby.
    public init(logger: Logger, openTerm: @escaping @Sendable (_ epoch: Int64?) async throws -> ActiveTerm) {
        self.logger = logger
        self.openTerm = openTerm
    }

    /// Whether requests are served now.
    public var isActive: Bool { currentTerm() != nil }

    /// The `WireServer` handler.
    public func handle(_ request: WireRequest) async -> WireResponse {
        guard let current = currentTerm() else {
            return .failure(.notActive, "this metadata server is a standby")
        }
        let response = await current.term.handle(request)
        if response.status != .ok, state.withLock({ $0.current?.serial }) != current.serial {
            return .failure(.notActive, "this metadata server was deposed while answering")
        }
        return response
    }

    func currentTerm() -> (serial: UInt64, term: ActiveTerm)? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let current = state.current else { return nil }
            if let validUntil = current.validUntil, now >= validUntil { return nil }
            return (current.serial, current.term)
        }
    }

    /// Serves without leadership (a lone server over SQLite): one term, forever.
    public func activateAlone() async throws {
        try await start(try await openTerm(nil), validUntil: nil)
    }

    public func elected(epoch: Int64, validUntil: ContinuousClock.Instant) async -> Bool {
        do {
            try await start(try await openTerm(epoch), validUntil: validUntil)
            logger.notice("serving as the active metadata server", metadata: ["epoch": "\(epoch)"])
            return true
        } catch {
            logger.error("elected but cannot serve; giving the lease up", metadata: ["error": "\(error)"])
            return false
        }
    }

    public func renewed(validUntil: ContinuousClock.Instant) {
        state.withLock { $0.current?.validUntil = validUntil }
    }

    public func deposed(reason: String) async {
        await stop()
        logger.notice("standing by", metadata: ["reason": "\(reason)"])
    }

    /// Ends the current term, if any: no request reaches it any more, its background work is
    /// cancelled and its store closed.
    public func stop() async {
        let ended = state.withLock { state -> Current? in
            defer { state.current = nil }
            return state.current
        }
        guard let ended else { return }
        // Not awaited: a sweep stuck on an unreachable database must not keep a deposed server
        // from campaigning again; the gate above already keeps requests away from the term.
        ended.background.cancel()
        await ended.term.close()
    }

    func start(_ term: ActiveTerm, validUntil: ContinuousClock.Instant?) async throws {
        await stop()
        let background = Task { await term.background() }
        state.withLock { state in
            state.serial += 1
            state.current = Current(serial: state.serial, term: term, validUntil: validUntil, background: background)
        }
    }
}
