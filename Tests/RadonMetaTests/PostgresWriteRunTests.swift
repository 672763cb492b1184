import Foundation
@testable import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// Consecutive writes of a PostgreSQL transaction run as one call of a function made for them
/// (`PostgresWriteRun`, `PostgresFusedFunctions`), with the fencing check as its first statement.
@Suite("PostgreSQL write runs")
struct PostgresWriteRunTests {
    let root = StoreFixture.rootInode

    /// Arguments become parameters, never text of the body; a NULL is the literal NULL; a SELECT
    /// whose rows nobody reads is PERFORM; the name follows the statements and argument types.
    @Test func aRunIsOneFunctionWhoseArgumentsAreParameters() throws {
        let hostile = "x'); DROP TABLE inode; --"
        let run = PostgresWriteRun(writes: [
            .init(sql: "SELECT radonfs_write_guard(?)", arguments: [Int64(7)]),
            .init(sql: "INSERT INTO dentry (parent, name, inode) VALUES (?, ?, ?)", arguments: [Int64(1), hostile, nil]),
            .init(sql: "UPDATE inode SET size = ?2, mtime = ?2 WHERE id = ?1", arguments: [Int64(5), 2.5]),
        ])
        let definition = try #require(run.definition)
        #expect(!definition.contains(hostile))
        #expect(definition.contains("PERFORM radonfs_write_guard($1);"))
        #expect(definition.contains("INSERT INTO dentry (parent, name, inode) VALUES ($2, $3, NULL);"))
        #expect(definition.contains("UPDATE inode SET size = $5, mtime = $5 WHERE id = $4;"))
        #expect(definition.contains("\(run.functionName)(BIGINT, BIGINT, TEXT, BIGINT, DOUBLE PRECISION)"))
        #expect(run.call == "SELECT \(run.functionName)($1, $2, $3, $4, $5)")
        #expect(run.callArguments == [Int64(7), Int64(1), hostile, Int64(5), 2.5])

        // Another NULL pattern is another function; the same shape with other values is the same.
        let otherValues = PostgresWriteRun(writes: [
            .init(sql: "SELECT radonfs_write_guard(?)", arguments: [Int64(8)]),
            .init(sql: "INSERT INTO dentry (parent, name, inode) VALUES (?, ?, ?)", arguments: [Int64(2), "y", nil]),
            .init(sql: "UPDATE inode SET size = ?2, mtime = ?2 WHERE id = ?1", arguments: [Int64(6), 3.5]),
        ])
        #expect(otherValues.functionName == run.functionName)
        let otherNulls = PostgresWriteRun(writes: [
            .init(sql: "SELECT radonfs_write_guard(?)", arguments: [nil]),
            .init(sql: "INSERT INTO dentry (parent, name, inode) VALUES (?, ?, ?)", arguments: [Int64(2), "y", nil]),
            .init(sql: "UPDATE inode SET size = ?2, mtime = ?2 WHERE id = ?1", arguments: [Int64(6), 3.5]),
        ])
        #expect(otherNulls.functionName != run.functionName)
        #expect(otherNulls.definition?.contains("PERFORM radonfs_write_guard(NULL);") == true)

        // A placeholder without its argument cannot be written, nor a run of more arguments than
        // a function may take.
        #expect(PostgresWriteRun(writes: [.init(sql: "DELETE FROM inode WHERE id = ?2", arguments: [Int64(1)])]).definition == nil)
        let wide = (0...PostgresWriteRun.maximumParameters).map { _ in
            PostgresWriteRun.Write(sql: "DELETE FROM inode WHERE id = ?", arguments: [Int64(1)])
        }
        #expect(PostgresWriteRun(writes: Array(wide.dropLast())).definition != nil)
        #expect(PostgresWriteRun(writes: wide).definition == nil)
        #expect(PostgresWriteRun.canJoin("  update inode SET size = 1"))
        #expect(!PostgresWriteRun.canJoin("INSERT INTO inode (kind) VALUES (1) RETURNING id"))
        #expect(!PostgresWriteRun.canJoin("SELECT 1"))
    }

    /// Once their function is made, a create's writes and its fencing check run as one call:
    /// a write that fails there fails the create with its own error (not as a fencing failure)
    /// and leaves nothing; a deposed server's call is refused as before; and creates go on.
    @Test func writesRunAsOneCallOnceTheirFunctionIsMade() async throws {
        let fixture = try await StoreFixture(.postgres)
        let url = try #require(fixture.databaseURL)
        try await PostgresTestServer.execute(
            "INSERT INTO meta_leader (id, epoch, holder, expires_at) VALUES (1, 7, 'this', now() + interval '1 hour')",
            inDatabaseOf: url)
        fixture.store.setFencingEpoch(7)
        try await PostgresTestServer.execute("ALTER SYSTEM SET log_min_duration_statement = 0", inDatabaseOf: url)
        try await PostgresTestServer.execute("SELECT pg_reload_conf()", inDatabaseOf: url)

        // The first creates go statement by statement while the function is being made.
        let fused = """
            SELECT count(*) FROM pg_proc WHERE proname LIKE 'radonfs_writes_%'
            AND prosrc LIKE '%PERFORM radonfs_write_guard%' AND prosrc LIKE '%INSERT INTO dentry%'
            """
        var made = 0
        while try await PostgresTestServer.integers(fused, inDatabaseOf: url) == [0] {
            try await fixture.createFile(FileName("warm-\(made)"), in: root)
            made += 1
            try #require(made < 200, "no function was made for a create's writes")
            try await Task.sleep(for: .milliseconds(20))
        }
        try await fixture.createFile("after", in: root)

        // A write refused by the database inside the call: the trigger names the query it ran
        // in, which is the call's.
        try await PostgresTestServer.execute(
            """
            CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.name = 'boom'::bytea THEN
                    RAISE EXCEPTION 'boom refused in %', current_query() USING ERRCODE = '23514';
                END IF;
                RETURN NEW;
            END $$
            """,
            inDatabaseOf: url)
        try await PostgresTestServer.execute(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON dentry FOR EACH ROW EXECUTE FUNCTION refuse_boom()", inDatabaseOf: url)
        let inodes = try await PostgresTestServer.integers("SELECT count(*) FROM inode", inDatabaseOf: url)
        do {
            try await fixture.createFile("boom", in: root)
            Issue.record("the refused create succeeded")
        } catch let error as WireError {
            #expect(error.status == .internalError, "a write's failure is not a fencing failure: \(error)")
            #expect(error.message.contains("boom refused in SELECT radonfs_writes_"), "the writes ran as one call: \(error)")
        }
        #expect(try await PostgresTestServer.integers("SELECT count(*) FROM inode", inDatabaseOf: url) == inodes)
        await expectErrno(ENOENT) { _ = try await fixture.lookup("boom", in: root) }
        try await fixture.createFile("after-boom", in: root)

        // Deposed: the fencing check inside the call refuses, and nothing is kept.
        try await PostgresTestServer.execute("UPDATE meta_leader SET epoch = 8, holder = 'other'", inDatabaseOf: url)
        await expectStatus(.notActive) { try await fixture.createFile("deposed", in: root) }
        await expectErrno(ENOENT) { _ = try await fixture.lookup("deposed", in: root) }
        try await PostgresTestServer.execute("UPDATE meta_leader SET epoch = 7, holder = 'this'", inDatabaseOf: url)

        // A function gone from under the server: that create fails as a lost connection does
        // (its client retries), and the retry goes statement by statement.
        try await PostgresTestServer.execute(
            """
            DO $$ DECLARE f regprocedure; BEGIN
                FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'radonfs_writes_%' LOOP
                    EXECUTE 'DROP FUNCTION ' || f;
                END LOOP;
            END $$
            """,
            inDatabaseOf: url)
        await expectStatus(.notActive) { try await fixture.createFile("gone", in: root) }
        try await fixture.createFile("gone", in: root)

        #expect(try await fixture.lookup("after", in: root).kind == .regular)
        #expect(try await fixture.lookup("after-boom", in: root).kind == .regular)
        #expect(try await fixture.lookup("gone", in: root).kind == .regular)
    }
}
