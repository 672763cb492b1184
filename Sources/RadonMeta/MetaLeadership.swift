import Logging
import PostgresNIO
import RadonWire
import Synchronization

/// How long a leader's lease lasts and how often it is renewed.
public struct LeadershipSettings: Sendable, Hashable {
    /// How long a lease lasts past its last renewal, by PostgreSQL's clock. A dead active is
    /// replaced about this long after its last renewal.
    public var lease: Duration
    /// How often the active renews, and a standby looks for an expired lease.
    public var renewInterval: Duration

    /// Renewal every fifth of the lease (at most every second), so four renewals in a row may
    /// fail or be late before the active steps down.
    public init(lease: Duration = .seconds(5), renewInterval: Duration? = nil) {
        self.lease = lease
        self.renewInterval = renewInterval ?? min(lease / 5, .seconds(1))
    }

    /// How long, by our own monotonic clock, a lease taken or renewed at `asked` may be acted
    /// on: the lease less a twentieth for clock-rate differences. PostgreSQL stamps the lease
    /// with `now()` taken after `asked`, so ours always runs out before PostgreSQL's does and a
    /// standby can never take over while we still think we lead.
    func validUntil(askedAt asked: ContinuousClock.Instant) -> ContinuousClock.Instant {
        asked + lease - lease / 20
    }
}

/// Whoever acts on leadership changes: the metadata server's role (`MetaServerRole`).
public protocol LeadershipFollower: Sendable {
    /// This server now leads with `epoch`, until `validUntil` unless renewed. Returns false
    /// when it cannot serve after all (its store did not open): the lease is then given up.
    func elected(epoch: Int64, validUntil: ContinuousClock.Instant) async -> Bool
    /// The lease was renewed: acting on it is safe until `validUntil`.
    func renewed(validUntil: ContinuousClock.Instant)
    /// This server leads no more (another took over, PostgreSQL was out of reach for a whole
    /// lease, or it is shutting down). Returns once nothing of the old term can start a write.
    func deposed(reason: String) async
}

/// Active/standby election through PostgreSQL: a lease row with a fencing epoch, no consensus of
/// our own.
///
/// The row `meta_leader (id = 1, epoch, holder, expires_at)` names the leader. A server takes
/// over only when `expires_at < now()` (PostgreSQL's clock, one clock for every server), and
/// then bumps `epoch` in the same statement; the active renews with `WHERE epoch = ours`.
/// Invariants:
/// - at most one server holds a given epoch, and epochs only grow (one atomic UPSERT);
/// - a server acts as leader only until `LeadershipSettings.validUntil` of its last successful
///   renewal, by its own monotonic clock, which ends before PostgreSQL lets anyone take over;
/// - a renewal that finds another epoch, or that cannot complete before that instant, deposes;
/// - past that instant (frozen, starved, or a term that took long to open) requests are refused
///   already; one renewal asked at once may still resume the term, since it succeeds only if
///   the epoch is still ours, that is if nobody took over meanwhile; failing that, or without an
///   answer within half a `renewInterval`, the server is deposed;
/// - writes of the store check the epoch inside their transaction, under `LeaderFence`'s lock,
///   so even a leader that was frozen past its lease (SIGSTOP) and wakes up with a write in
///   flight is refused by PostgreSQL itself: the takeover waits for that write to end, and
///   every write after it sees the new epoch.
///
/// The connection is its own (not the store's pool), found with `PostgresPrimaryConnector`, so
/// after a promotion it moves to the new primary.
public final class MetaLeadership: Sendable {
    public let url: PostgresDatabaseURL
    /// Who we are, as the row shows it (address and pid).
    public let holder: String
    public let settings: LeadershipSettings
    let logger: Logger
    /// The position of the last primary found in `url.hosts`, asked first on a reconnection.
    private let primaryHost = Atomic<Int>(0)

    public init(url: PostgresDatabaseURL, holder: String, settings: LeadershipSettings = LeadershipSettings(), logger: Logger) {
        self.url = url
        self.holder = holder
        self.settings = settings
        self.logger = logger
    }

    /// The lease table, as the PostgreSQL store's schema makes it (same definition, so either
    /// may create it first).
    static let createTable: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS meta_leader (id INTEGER PRIMARY KEY CHECK (id = 1), epoch BIGINT NOT NULL, \
        holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)
        """

    /// Campaigns, leads and renews until the task is cancelled; then gives the lease up (so a
    /// standby takes over at once) and tells `follower`.
    public func run(_ follower: some LeadershipFollower) async {
        var connection: PostgresConnection?
        var term: (epoch: Int64, validUntil: ContinuousClock.Instant)?
        // While PostgreSQL stays unreachable: a warning at first, then one every 30 s.
        var unreachable: (failures: Int, warnedAt: ContinuousClock.Instant)?
        while !Task.isCancelled {
            let asked = ContinuousClock.now
            var retrySoon = false
            var failed = false
            // Past the lease by our own clock: requests are refused already (`MetaServerRole`'s
            // gate), and one quick renewal decides whether the term goes on.
            let late = term.map { asked >= $0.validUntil } ?? false
            do {
                let deadline = late ? asked + settings.renewInterval / 2 : (term?.validUntil ?? asked + settings.lease)
                let live = try await connected(connection, before: deadline)
                connection = live
                if let current = term {
                    if try await within(deadline, onTimeout: { try? await live.close() }, { try await self.renew(epoch: current.epoch, on: live) }) {
                        term?.validUntil = settings.validUntil(askedAt: asked)
                        follower.renewed(validUntil: settings.validUntil(askedAt: asked))
                    } else {
                        term = nil
                        logger.warning("deposed: another metadata server took over", metadata: ["epoch": "\(current.epoch)", "late": "\(late)"])
                        await follower.deposed(reason: "another metadata server took over")
                    }
                } else if let epoch = try await within(deadline, onTimeout: { try? await live.close() }, { try await self.acquire(on: live) }) {
                    let validUntil = settings.validUntil(askedAt: asked)
                    logger.notice("elected active metadata server", metadata: ["epoch": "\(epoch)", "holder": "\(holder)"])
                    if await follower.elected(epoch: epoch, validUntil: validUntil) {
                        term = (epoch, validUntil)
                    } else {
                        try? await resign(epoch: epoch, on: live)
                    }
                }
            } catch {
                if let live = connection { try? await live.close() }
                connection = nil
                if late, term != nil {
                    term = nil
                    await follower.deposed(reason: "the lease ran out before it could be renewed")
                }
                retrySoon = term != nil
                let failures = (unreachable?.failures ?? 0) + 1
                if let last = unreachable, last.warnedAt.duration(to: .now) < .seconds(30) {
                    unreachable?.failures = failures
                } else {
                    logger.warning("PostgreSQL unreachable for leadership", metadata: [
                        "error": "\(error)", "leading": "\(term != nil)", "failures": "\(failures)",
                    ])
                    unreachable = (failures, .now)
                }
                failed = true
            }
            if !failed, let last = unreachable {
                logger.notice("PostgreSQL reachable again for leadership", metadata: ["failures": "\(last.failures)"])
                unreachable = nil
            }
            let pause: Duration = retrySoon ? .milliseconds(200) : (term == nil ? settings.renewInterval / 2 : settings.renewInterval)
            try? await Task.sleep(until: asked + pause, clock: .continuous)
        }
        if let current = term {
            await follower.deposed(reason: "shutting down")
            if let live = connection {
                _ = try? await within(.now + .seconds(2), onTimeout: { try? await live.close() }) { try await self.resign(epoch: current.epoch, on: live) }
            }
        }
        if let live = connection { try? await live.close() }
    }

    /// `connection` if it is open, else a new one to the primary (schema made), before `deadline`.
    /// The whole of it is bounded, handshake included: a PostgreSQL that accepts TCP but does not
    /// answer (stopped, overloaded) must not keep a leader from noticing that its lease ran out.
    func connected(_ connection: PostgresConnection?, before deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let timeout = max(ContinuousClock.now.duration(to: deadline), .milliseconds(100))
        let (url, logger) = (self.url, self.logger)
        let preferred = primaryHost.load(ordering: .relaxed)
        let (fresh, host) = try await within(deadline) {
            try await PostgresPrimaryConnector.connect(to: url, connectTimeout: min(timeout, .seconds(2)), preferring: preferred, logger: logger)
        }
        primaryHost.store(host, ordering: .relaxed)
        do {
            _ = try await within(deadline, onTimeout: { try? await fresh.close() }) {
                try await fresh.query(Self.createTable, logger: logger)
                return true
            }
        } catch {
            try? await fresh.close()
            throw error
        }
        return fresh
    }

    /// Takes the lease if nobody holds it or it expired; the new epoch, or nil (someone leads).
    ///
    /// A lease still running is seen without taking any lock, so standbys polling cost the
    /// active nothing. A takeover bumps the epoch inside a transaction that holds
    /// `LeaderFence`'s lock exclusive: it starts once the deposed server's writes in flight have
    /// ended, and every write after it reads the new epoch.
    func acquire(on connection: PostgresConnection) async throws -> Int64? {
        let running: PostgresQuery = "SELECT count(*) FROM meta_leader WHERE id = 1 AND expires_at >= now()"
        for try await count in try await connection.query(running, logger: logger).decode(Int64.self) where count > 0 {
            return nil
        }
        let seconds = settings.lease.seconds
        let takeOver: PostgresQuery = """
            INSERT INTO meta_leader AS l (id, epoch, holder, expires_at) \
            VALUES (1, 1, \(holder), now() + make_interval(secs => \(seconds))) \
            ON CONFLICT (id) DO UPDATE SET epoch = l.epoch + 1, holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
            WHERE l.expires_at < now() RETURNING epoch
            """
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: LeaderFence.exclusiveLock), logger: logger)
            var epoch: Int64?
            for try await taken in try await connection.query(takeOver, logger: logger).decode(Int64.self) { epoch = taken }
            try await connection.query("COMMIT", logger: logger)
            return epoch
        } catch {
            // On a connection that closed, a query is never answered (see `within`).
            if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
            throw error
        }
    }

    /// Extends our lease; false when the row holds another epoch (someone took over).
    func renew(epoch: Int64, on connection: PostgresConnection) async throws -> Bool {
        let seconds = settings.lease.seconds
        let query: PostgresQuery = """
            UPDATE meta_leader SET expires_at = now() + make_interval(secs => \(seconds)) \
            WHERE id = 1 AND epoch = \(epoch) RETURNING epoch
            """
        for try await _ in try await connection.query(query, logger: logger).decode(Int64.self) { return true }
        return false
    }

    /// Lets the lease expire now, so a standby need not wait for it; only our own epoch.
    func resign(epoch: Int64, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE meta_leader SET expires_at = now() - interval '1 second' WHERE id = 1 AND epoch = \(epoch)", logger: logger)
    }

    /// Runs `body`, or once `deadline` passes runs `onTimeout` (closing the connection `body`
    /// waits on), cancels `body` and throws: a PostgreSQL that stopped answering must not hold
    /// a leader past its lease.
    ///
    /// `body` runs in a task of its own that this does not wait for once the deadline passed:
    /// postgres-nio 1.33 never answers nor fails a query written as its connection closes, and
    /// a task group would wait for such a body for ever, wedging the election (seen across a
    /// promotion: no server led for two minutes).
    func within<T: Sendable>(
        _ deadline: ContinuousClock.Instant, onTimeout: @escaping @Sendable () async -> Void = {},
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = FirstOutcome<T>()
        let work = Task {
            do { outcome.settle(.success(try await body())) } catch { outcome.settle(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if outcome.settle(.failure(LeadershipTimeout())) {
                await onTimeout()
                work.cancel()
            }
        }
        defer { timer.cancel() }
        // Cancelled (shutting down), it still waits for `body` up to the deadline, as the task
        // group did: a resignation sent on the way out must get through.
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            work.cancel()
        }
    }
}

/// PostgreSQL did not answer before the lease would have run out.
struct LeadershipTimeout: Error, CustomStringConvertible {
    var description: String { "PostgreSQL did not answer within the lease" }
}
