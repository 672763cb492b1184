/// This client's session with the metadata service: the lease its locks, data tokens and
/// open-file holds hang on.
///
/// Opened on first need and renewed in the background (`RadonFileSystemClient.keepSession`);
/// after a lapse (the client was cut off for a whole lease, or the service restarted) the next
/// renewal fails with `sessionExpired` and a new session is opened, under which the client
/// asserts its open files again. A data token or lock taken under a lapsed session is void:
/// `current(validFor:)` answers only while the lease, counted from when the last renewal was
/// sent, has not run out, and while no outage of the metadata service began since (it may
/// have restarted; the next renewal tells).
actor ClientSession {
    struct Lease {
        var id: UInt64
        var duration: Duration
        /// When the request that set this lease was sent: the service's lease started later.
        var sentAt: ContinuousClock.Instant
        /// `MetaFailover.outageCount` when that request was sent: after an outage the service
        /// may have restarted and forgotten the session, so its tokens are not trusted until a
        /// renewal says the session is still alive.
        var outages: UInt64
        var expiry: ContinuousClock.Instant { sentAt + duration }
    }

    private let meta: PooledMetaService
    private let clientName: String
    private var lease: Lease?
    private var opening: Task<Lease, any Error>?
    /// Bumped for every new session, so callers can tell theirs was replaced.
    private(set) var incarnation: UInt64 = 0

    init(meta: PooledMetaService, clientName: String) {
        self.meta = meta
        self.clientName = clientName
    }

    /// The live session's id, opening one if there is none; `replaced` when this call opened a
    /// session in place of an earlier one (whose holds the caller asserts again).
    func id() async throws -> (id: UInt64, replaced: Bool) {
        if let lease, lease.expiry > .now { return (lease.id, false) }
        let (opened, byThisCall) = try await open()
        return (opened.id, byThisCall && incarnation > 1)
    }

    /// The service said `id` lapsed: forget it, so the next `id()` opens a new session.
    func lapsed(_ id: UInt64) {
        if lease?.id == id { lease = nil }
    }

    /// The session id if its lease has at least `margin` left and no outage of the metadata
    /// service began since it was last confirmed.
    func current(validFor margin: Duration = .seconds(1)) -> UInt64? {
        guard let lease, lease.expiry - margin > .now, lease.outages == meta.failover.outageCount else { return nil }
        return lease.id
    }

    /// How often to renew: a quarter of the lease, and at least every 2 s so a writer learns
    /// soon that another client waits for its data token.
    var renewalInterval: Duration {
        min((lease?.duration ?? .seconds(20)) / 4, .seconds(2))
    }

    /// Renews the lease; nil if there is no session yet. On `sessionExpired` the old session is
    /// dropped and a new one opened (`replaced` true).
    func renew() async throws -> (lease: SessionLease, replaced: Bool)? {
        guard let current = lease else { return nil }
        let (sentAt, outages) = (ContinuousClock.now, meta.failover.outageCount)
        do {
            let renewed = try await meta.client().renewSession(current.id)
            if lease?.id == current.id { lease = Lease(id: current.id, duration: renewed.lease, sentAt: sentAt, outages: outages) }
            return (renewed, false)
        } catch let error as WireError where error.status == .sessionExpired {
            if let replacement = lease, replacement.id != current.id {
                // Another call replaced the session while this renewal was out: a second new
                // session would hold nothing, yet keep what it took (a data token) from the
                // first until its lease ran out.
                return (SessionLease(session: replacement.id, leaseMilliseconds: replacement.duration.wireMilliseconds), false)
            }
            lease = nil
            let (fresh, byThisCall) = try await open()
            return (SessionLease(session: fresh.id, leaseMilliseconds: fresh.duration.wireMilliseconds), byThisCall)
        }
    }

    /// Ends the session (unmount): the service releases what it held at once.
    func close() async {
        guard let current = lease else { return }
        lease = nil
        _ = try? await meta.client().closeSession(current.id)
    }

    /// Opens a session, or joins the opening under way (`byThisCall` false).
    private func open() async throws -> (lease: Lease, byThisCall: Bool) {
        if let opening { return (try await opening.value, false) }
        let (meta, clientName) = (self.meta, self.clientName)
        let task = Task {
            let (sentAt, outages) = (ContinuousClock.now, meta.failover.outageCount)
            let opened = try await meta.client().openSession(clientName: clientName)
            return Lease(id: opened.session, duration: opened.lease, sentAt: sentAt, outages: outages)
        }
        opening = task
        defer { opening = nil }
        let opened = try await task.value
        lease = opened
        incarnation &+= 1
        return (opened, true)
    }
}
