import Foundation
import Logging
import RadonMeta
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// Records what a `MetaLeadership` tells its follower.
final class RecordingFollower: LeadershipFollower {
    enum Event: Equatable, Sendable {
        case elected(Int64)
        case deposed
    }

    let events = Mutex<[Event]>([])
    /// Each renewal: when it was reported, and until when it let the term act.
    let renewals = Mutex<[(at: ContinuousClock.Instant, validUntil: ContinuousClock.Instant)]>([])

    /// The epoch it leads with now, if any.
    var epoch: Int64? {
        events.withLock { events in
            if case .elected(let epoch) = events.last { return epoch }
            return nil
        }
    }

    func elected(epoch: Int64, validUntil: ContinuousClock.Instant) async -> Bool {
        events.withLock { $0.append(.elected(epoch)) }
        return true
    }

    func renewed(validUntil: ContinuousClock.Instant) {
        renewals.withLock { $0.append((.now, validUntil)) }
    }

    func deposed(reason: String) async {
        events.withLock { $0.append(.deposed) }
    }
}

@Suite("Database URLs with several hosts")
struct PostgresDatabaseURLTests {
    @Test("Every host, the user and the database are read as libpq reads them")
    func severalHosts() throws {
        let url = try #require(PostgresDatabaseURL("postgres://radonfs@10.0.0.1:5433,db2:5434/meta"))
        #expect(url.user == "radonfs")
        #expect(url.hosts == [.init(name: "10.0.0.1", port: 5433), .init(name: "db2", port: 5434)])
        #expect(url.database == "meta")
        #expect(url.description == "postgres://radonfs@10.0.0.1:5433,db2:5434/meta")
    }

    @Test("Hosts are tried from the last primary found on, then the rest in order")
    func hostsFromTheLastPrimary() throws {
        let url = try #require(PostgresDatabaseURL("postgres://radonfs@a:1,b:2,c:3/meta"))
        #expect(url.hosts(startingAt: 0).map(\.index) == [0, 1, 2])
        #expect(url.hosts(startingAt: 1).map(\.host.name) == ["b", "c", "a"])
        #expect(url.hosts(startingAt: 5).map(\.index) == [2, 0, 1])
    }

    @Test("Defaults: port 5432, user postgres, the database named as the user; a password is kept but not shown")
    func defaults() throws {
        let url = try #require(PostgresDatabaseURL("postgresql://u:secret@h"))
        #expect(url.hosts == [.init(name: "h", port: 5432)])
        #expect(url.password == "secret")
        #expect(url.database == "u")
        #expect(!url.description.contains("secret"))
        #expect(PostgresDatabaseURL("/var/lib/radonfs/meta.db") == nil)
        #expect(PostgresDatabaseURL("postgres://u@h:99999/db") == nil)
    }
}

@Suite("Leadership through a PostgreSQL lease row", .serialized)
struct MetaLeadershipTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.leadership")
        logger.logLevel = .error
        return logger
    }()

    /// A write as the PostgreSQL store makes it: `LeaderFence.check` (the store's own guard
    /// function, installed as migration 3 does) first, in the write's own transaction. True
    /// when it committed.
    static func fencedWrite(_ server: TestPostgres, epoch: Int64) throws -> Bool {
        _ = try server.query("CREATE TABLE IF NOT EXISTS fenced_write (epoch BIGINT)")
        _ = try server.query(LeaderFence.guardFunction)
        // One -c string is one transaction; each statement takes its own snapshot.
        let statement = "\(LeaderFence.check.replacingOccurrences(of: "?", with: "\(epoch)")); INSERT INTO fenced_write VALUES (\(epoch))"
        return (try? server.query(statement)) != nil
    }

    @Test("One leader at a time: a standby waits while the lease is renewed, then takes over with the next epoch")
    func standbyTakesOverWithTheNextEpoch() async throws {
        try await TestPostgres.with { server in
            let url = try #require(PostgresDatabaseURL(server.url))
            let settings = LeadershipSettings(lease: .seconds(1))
            let (first, second) = (RecordingFollower(), RecordingFollower())
            let leading = Task { await MetaLeadership(url: url, holder: "first", settings: settings, logger: Self.logger).run(first) }
            try await poll("the first server to lead", timeout: .seconds(20), interval: .milliseconds(50)) { first.epoch != nil }
            let epoch = try #require(first.epoch)
            let waiting = Task { await MetaLeadership(url: url, holder: "second", settings: settings, logger: Self.logger).run(second) }
            defer { waiting.cancel() }

            // Three leases long: renewed all along, so the second never leads.
            try await Task.sleep(for: .seconds(3))
            #expect(second.events.withLock { $0 }.isEmpty)
            #expect(first.events.withLock { $0 } == [.elected(epoch)])
            #expect(try server.query("SELECT epoch, holder FROM meta_leader") == "\(epoch)|first")
            #expect(try Self.fencedWrite(server, epoch: epoch))

            // The first stops (and gives the lease up): the second leads with the next epoch, and a
            // write fenced with the old epoch is refused by PostgreSQL.
            let stopped = ContinuousClock.now
            leading.cancel()
            await leading.value
            try await poll("the second server to lead", timeout: .seconds(10), interval: .milliseconds(20)) { second.epoch != nil }
            print("takeover after the leader resigned: \(stopped.duration(to: .now))")
            #expect(second.epoch == epoch + 1)
            #expect(first.events.withLock { $0 } == [.elected(epoch), .deposed])
            #expect(try server.query("SELECT epoch, holder FROM meta_leader") == "\(epoch + 1)|second")
            #expect(try !Self.fencedWrite(server, epoch: epoch))
            #expect(try Self.fencedWrite(server, epoch: epoch + 1))
            #expect(try server.query("SELECT count(*) FROM fenced_write WHERE epoch = \(epoch)") == "1")
        }
    }

    /// The fencing invariant with the real engine: a write of the deposed leader that got its
    /// lock first commits before the takeover does, and a write after the takeover is refused.
    @Test("A takeover waits for the deposed leader's write in flight; every write after it is refused")
    func takeoverWaitsForTheWriteInFlight() async throws {
        try await TestPostgres.with { server in
            let engine = try await PostgresEngine.connect(url: server.url, logger: Self.logger)
            _ = try server.query("CREATE TABLE fenced_write (epoch BIGINT)")
            _ = try server.query("INSERT INTO meta_leader (id, epoch, holder, expires_at) VALUES (1, 1, 'old', now() - interval '1 second')")
            engine.setFencingEpoch(1)
            let started = ContinuousClock.now
            let inFlight = Task {
                try await engine.writeBatch { db in
                    try db.execute("INSERT INTO fenced_write VALUES (1)", SQLArguments())
                    // A read, as every store operation makes: the batch's statements (the fence's
                    // lock first) reach PostgreSQL at the first answer the batch waits for.
                    _ = try db.row("SELECT count(*) FROM fenced_write", SQLArguments())
                    Thread.sleep(forTimeInterval: 1.5)  // a leader frozen mid-write
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let url = try #require(PostgresDatabaseURL(server.url))
            let follower = RecordingFollower()
            let campaign = Task { await MetaLeadership(url: url, holder: "new", settings: LeadershipSettings(lease: .seconds(5)), logger: Self.logger).run(follower) }
            defer { campaign.cancel() }
            try await poll("the new server to lead", timeout: .seconds(20), interval: .milliseconds(20)) { follower.epoch != nil }
            let elected = started.duration(to: .now)
            try await inFlight.value
            print("takeover \(elected) after a 1.5 s write in flight began")
            #expect(elected >= .milliseconds(1500), "the takeover waited for the write that held the lock")
            #expect(follower.epoch == 2)
            await expectStatus(.notActive) {
                try await engine.writeBatch { db in try db.execute("INSERT INTO fenced_write VALUES (1)", SQLArguments()) }
            }
            #expect(try server.query("SELECT count(*) FROM fenced_write") == "1")
            await engine.shutdown()
        }
    }

    @Test("A leader that cannot reach PostgreSQL steps down within its lease")
    func leaderWithoutPostgresStepsDown() async throws {
        try await TestPostgres.with { server in
            let url = try #require(PostgresDatabaseURL(server.url))
            let follower = RecordingFollower()
            let lease = Duration.seconds(2)
            let leading = Task { await MetaLeadership(url: url, holder: "alone", settings: LeadershipSettings(lease: lease), logger: Self.logger).run(follower) }
            defer { leading.cancel() }
            try await poll("the server to lead", timeout: .seconds(20), interval: .milliseconds(50)) { follower.epoch != nil }
            let lost = ContinuousClock.now
            PostgresTools.crash(dataDirectory: "\(server.directory)/data")
            try await poll("the leader to step down", timeout: .seconds(10), interval: .milliseconds(20)) {
                follower.events.withLock { $0.last == .deposed }
            }
            let steppedDown = lost.duration(to: .now)
            print("leader stepped down \(steppedDown) after PostgreSQL went away (lease \(lease))")
            #expect(steppedDown <= lease + .milliseconds(500))
        }
    }

    /// Its requests gate (`validUntil`) shuts at the end of the last renewal's lease; the late
    /// renewal over a new connection (a new backend) finds its epoch still there, so the same
    /// term goes on without an election.
    @Test("A leader whose renewal hangs (its PostgreSQL backend stopped) stops acting at its lease's end, then renews late with the same epoch")
    func leaderWithAHungRenewalStopsActingThenRenewsLate() async throws {
        try await TestPostgres.with { server in
            let url = try #require(PostgresDatabaseURL(server.url))
            let follower = RecordingFollower()
            let lease = Duration.seconds(2)
            let leading = Task { await MetaLeadership(url: url, holder: "hung", settings: LeadershipSettings(lease: lease), logger: Self.logger).run(follower) }
            defer { leading.cancel() }
            try await poll("the server to lead", timeout: .seconds(20), interval: .milliseconds(50)) { follower.epoch != nil }
            let epoch = try #require(follower.epoch)
            try await poll("a first renewal", timeout: .seconds(10), interval: .milliseconds(20)) { !follower.renewals.withLock { $0 }.isEmpty }
            // The backend process that serves the leader's connection (the only client but us).
            let backend = try #require(Int32(try server.query(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY pid LIMIT 1")))
            kill(backend, SIGSTOP)
            defer { kill(backend, SIGCONT) }
            let stopped = ContinuousClock.now
            let before = follower.renewals.withLock { $0.count }
            // The first renewal that came after a shut gate: the late one.
            func late() -> (at: ContinuousClock.Instant, validUntil: ContinuousClock.Instant, previous: ContinuousClock.Instant)? {
                follower.renewals.withLock { renewals in
                    guard renewals.count > before else { return nil }
                    for index in before..<renewals.count where renewals[index].at >= renewals[index - 1].validUntil {
                        return (renewals[index].at, renewals[index].validUntil, renewals[index - 1].validUntil)
                    }
                    return nil
                }
            }
            try await poll("a late renewal", timeout: .seconds(10), interval: .milliseconds(20)) { late() != nil }
            let renewal = try #require(late())
            print("gate shut \(stopped.duration(to: renewal.previous)) after the backend stopped, renewed late \(renewal.previous.duration(to: renewal.at)) after that (lease \(lease))")
            #expect(stopped.duration(to: renewal.previous) <= lease, "the gate stayed open past the lease")
            #expect(!follower.events.withLock { $0 }.contains(.deposed))
            #expect(follower.epoch == epoch)
            #expect(try Self.fencedWrite(server, epoch: epoch))
        }
    }

    @Test("A term slower to open than the lease is kept when nobody took over: one late renewal, not an election loop")
    func aSlowTermOpeningKeepsItsEpoch() async throws {
        try await TestPostgres.with { server in
            let url = try #require(PostgresDatabaseURL(server.url))
            // Each term takes 1.5 s to open (a store connecting past a host cut off), the lease is 1 s.
            let follower = SlowOpeningFollower(opening: .milliseconds(1500))
            let leading = Task { await MetaLeadership(url: url, holder: "slow", settings: LeadershipSettings(lease: .seconds(1)), logger: Self.logger).run(follower) }
            defer { leading.cancel() }
            try await poll("the server to be elected", timeout: .seconds(20), interval: .milliseconds(50)) { follower.recorded.epoch != nil }
            let epoch = try #require(follower.recorded.epoch)
            try await Task.sleep(for: .seconds(4))
            // Before: deposed as the term opened, elected again with the next epoch, and so on.
            #expect(follower.recorded.events.withLock { $0 } == [.elected(epoch)])
            #expect(follower.renewals.withLock { $0 } >= 3)
            #expect(try Self.fencedWrite(server, epoch: epoch), "the epoch that kept leading cannot write")
        }
    }
}

/// A follower whose terms take `opening` to open, as a store's first connection may.
final class SlowOpeningFollower: LeadershipFollower {
    let recorded = RecordingFollower()
    let opening: Duration
    let renewals = Mutex(0)

    init(opening: Duration) {
        self.opening = opening
    }

    func elected(epoch: Int64, validUntil: ContinuousClock.Instant) async -> Bool {
        try? await Task.sleep(for: opening)
        return await recorded.elected(epoch: epoch, validUntil: validUntil)
    }

    func renewed(validUntil: ContinuousClock.Instant) {
        renewals.withLock { $0 += 1 }
    }

    func deposed(reason: String) async {
        await recorded.deposed(reason: reason)
    }
}
