import RadonWire

/// Client sessions: the leases that tie what a client holds (locks, data tokens, open files)
/// to its life.
///
/// A client opens a session and renews it well within its lease; a session not renewed for a
/// whole lease lapses, and every expiry handler runs with its id, so a client that was
/// SIGKILLed or cut off loses what it held after one lease. Sessions live in memory: after a
/// restart of the service every renewal fails with `sessionExpired` and the clients open new
/// sessions and assert their holds again.
///
/// Invariants: an id is never reused (ids are random 64-bit numbers, so a client holding an id
/// from before a restart cannot name a session of another client); a session is either live
/// (in `sessions`, expiry in the future at the last sweep) or gone for good.
public actor SessionRegistry {
    struct Session {
        var clientName: String
        var expiry: ContinuousClock.Instant
    }

    /// How long a session lives without a renewal.
    public let lease: Duration
    private var sessions: [UInt64: Session] = [:]
    private var expiryHandlers: [@Sendable (UInt64) async -> Void] = []

    public init(lease: Duration = .seconds(20)) {
        precondition(lease > .zero, "a session lease must be positive")
        self.lease = lease
    }

    /// Runs `handler` with the id of every session that lapses or is closed, after it is gone.
    public func onExpiry(_ handler: @escaping @Sendable (UInt64) async -> Void) {
        expiryHandlers.append(handler)
    }

    public func open(clientName: String) -> UInt64 {
        var id: UInt64
        repeat { id = UInt64.random(in: 1...UInt64.max) } while sessions[id] != nil
        sessions[id] = Session(clientName: clientName, expiry: .now + lease)
        return id
    }

    /// Extends the lease of a live session; `sessionExpired` for one that lapsed or never was.
    public func renew(_ id: UInt64) throws {
        guard sessions[id] != nil else { throw Self.expired(id) }
        sessions[id]!.expiry = .now + lease
    }

    /// Whether `id` names a live session; `sessionExpired` otherwise.
    public func requireLive(_ id: UInt64) throws {
        guard sessions[id] != nil else { throw Self.expired(id) }
    }

    public func isLive(_ id: UInt64) -> Bool { sessions[id] != nil }

    public var liveCount: Int { sessions.count }

    /// Ends a session now (the client unmounted): its holds go at once, not after the lease.
    public func close(_ id: UInt64) async {
        guard sessions.removeValue(forKey: id) != nil else { return }
        await runExpiryHandlers(for: [id])
    }

    /// Drops every session whose lease ran out; returns their ids.
    @discardableResult
    public func sweep(now: ContinuousClock.Instant = .now) async -> [UInt64] {
        let lapsed = sessions.filter { $0.value.expiry <= now }.map(\.key)
        for id in lapsed { sessions[id] = nil }
        await runExpiryHandlers(for: lapsed)
        return lapsed
    }

    private func runExpiryHandlers(for ids: [UInt64]) async {
        for id in ids {
            for handler in expiryHandlers { await handler(id) }
        }
    }

    static func expired(_ id: UInt64) -> WireError {
        WireError(.sessionExpired, "session \(String(id, radix: 16)) has lapsed or is unknown: open a new one")
    }
}
