import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// What only the PostgreSQL engine has: fencing by the leader's epoch, migrations that two
/// servers may run at once, and clear errors for a bad URL or an absent server.
@Suite("PostgreSQL engine")
struct PostgresEngineTests {
    let root = StoreFixture.rootInode

    /// With an epoch set, a write commits only while `meta_leader` holds exactly that epoch;
    /// reads are never fenced, and a refused write leaves nothing behind.
    @Test func writesAreFencedByTheLeaderEpoch() async throws {
        let fixture = try await StoreFixture(.postgres)
        let url = try #require(fixture.databaseURL)
        let store = fixture.store
        try await fixture.createFile("before", in: root)

        store.setFencingEpoch(7)
        #expect(store.postgresEngine?.currentFencingEpoch == 7)
        await expectStatus(.notActive) { try await fixture.createFile("no-leader-row", in: root) }

        try await PostgresTestServer.execute(
            "INSERT INTO meta_leader (id, epoch, holder, expires_at) VALUES (1, 7, 'this', now() + interval '10 seconds')",
            inDatabaseOf: url)
        try await fixture.createFile("while-leader", in: root)

        try await PostgresTestServer.execute("UPDATE meta_leader SET epoch = 8, holder = 'other'", inDatabaseOf: url)
        await expectStatus(.notActive) { try await fixture.createFile("deposed", in: root) }
        #expect(try await fixture.lookup("while-leader", in: root).kind == .regular, "reads are not fenced")
        await expectErrno(ENOENT) { _ = try await fixture.lookup("deposed", in: root) }
        await expectErrno(ENOENT) { _ = try await fixture.lookup("no-leader-row", in: root) }

        store.setFencingEpoch(nil)
        try await fixture.createFile("unfenced", in: root)
        #expect(try await store.readDirectory(ReadDirectoryRequest(inode: root, after: 0, limit: 100)).map(\.name.description)
            == [".", "..", "before", "while-leader", "unfenced"])
    }

    /// Write batches are chained (`COMMIT AND CHAIN`): between batches the writer idles in an
    /// empty transaction that holds no snapshot and no lock, and the idle limit does not cut it.
    /// Inside a batch the write guard sets that limit, so a transaction left idle mid-batch (a
    /// stopped server) is still cut.
    @Test func chainedWritesIdleWithoutHoldingAnything() async throws {
        let fixture = try await StoreFixture(.postgres)
        let url = try #require(fixture.databaseURL)
        let database = String(url.split(separator: "/").last!)
        try await PostgresTestServer.execute(
            "INSERT INTO meta_leader (id, epoch, holder, expires_at) VALUES (1, 7, 'this', now() + interval '1 hour')",
            inDatabaseOf: url)
        fixture.store.setFencingEpoch(7)
        try await fixture.createFile("first", in: root)

        let idleWriter = """
            SELECT pid::bigint FROM pg_stat_activity WHERE datname = '\(database)' AND state = 'idle in transaction'
            AND backend_xmin IS NULL AND backend_xid IS NULL
            """
        let writer = try await PostgresTestServer.integers(idleWriter, inDatabaseOf: url)
        #expect(writer.count == 1, "the writer waits in its chained transaction")
        let heldLocks = "SELECT count(*) FROM pg_locks WHERE pid = \(writer.first ?? 0) AND locktype <> 'virtualxid'"
        #expect(try await PostgresTestServer.integers(heldLocks, inDatabaseOf: url) == [0])

        // A batch stopped after its guard, on a connection whose own idle limit is off. (Its
        // cut is watched from outside: postgres-nio may never answer a query on a cut connection.)
        let port = try await PostgresTestServer.running().port
        var stoppedBackend: [Int64] = []
        // Closing a connection the server already cut may throw: only the body's steps count.
        try? await PostgresTestServer.withConnection(port: port, database: database) { stopped in
            try await stopped.query("SET idle_in_transaction_session_timeout = 0", logger: PostgresTestServer.quietLogger)
            try await stopped.query("BEGIN", logger: PostgresTestServer.quietLogger)
            try await stopped.query("SELECT radonfs_write_guard(NULL)", logger: PostgresTestServer.quietLogger)
            for try await pid in try await stopped.query("SELECT pg_backend_pid()::bigint", logger: PostgresTestServer.quietLogger).decode(Int64.self) {
                stoppedBackend.append(pid)
            }
            try await Task.sleep(for: .seconds(6))  // past the 5 s idle limit
        }
        #expect(stoppedBackend.count == 1)
        let stoppedAlive = "SELECT count(*) FROM pg_stat_activity WHERE pid = \(stoppedBackend.first ?? 0)"
        #expect(try await PostgresTestServer.integers(stoppedAlive, inDatabaseOf: url) == [0], "cut by the guard's idle limit")

        #expect(try await PostgresTestServer.integers(idleWriter, inDatabaseOf: url) == writer, "the idle chain was not cut")
        try await fixture.createFile("second", in: root)
        #expect(try await PostgresTestServer.integers(idleWriter, inDatabaseOf: url) == writer, "same connection")
        #expect(try await fixture.lookup("second", in: root).kind == .regular)
    }

    /// Servers starting together on a new database: one migrates, the others wait for it on
    /// the advisory lock and find the schema done; reopening migrates nothing again.
    @Test func concurrentStartsMigrateOnce() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let engines = try await withThrowingTaskGroup(of: PostgresEngine.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresEngine.connect(url: url, logger: PostgresTestServer.quietLogger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(engines.count == 4)
        let stores = engines.map { SQLMetadataStore(engine: $0) }
        _ = try await stores[0].create(CreateRequest(parent: root, name: "one", kind: .regular, permissions: 0o644, exclusive: true, caller: .root))
        #expect(try await stores[3].lookup(NameRequest(parent: root, name: "one", caller: .root)).linkCount == 1)
        #expect(try await stores[2].attributes(of: root).linkCount == 2, "one root, made once")
        for engine in engines { await engine.shutdown() }
    }

    /// libpq's defaults apply (user postgres, database named as the user, port 5432); what no
    /// default mends is refused before any connection.
    @Test(arguments: ["postgres://user@host:99999/db", "postgres://user@host:0/db", "postgres://user@host:abc/db", "postgres:///db"])
    func badURLsAreRefusedClearly(url: String) async throws {
        do {
            _ = try await PostgresEngine.connect(url: url, logger: PostgresTestServer.quietLogger, patience: .zero)
            Issue.record("\(url) was accepted")
        } catch let error as WireError {
            #expect(error.status == .invalidArgument)
            #expect(error.message.contains("bad PostgreSQL URL"), "\(error.message)")
        }
    }

    @Test func passwordsStayOutOfMessages() async throws {
        do {
            _ = try await PostgresEngine.connect(url: "postgres://user:secret@host:99999/db", logger: PostgresTestServer.quietLogger, patience: .zero)
            Issue.record("a port out of range was accepted")
        } catch let error as WireError {
            #expect(!error.message.contains("secret"), "\(error.message)")
            #expect(error.message.contains("bad PostgreSQL URL"), "\(error.message)")
        }
    }
}
