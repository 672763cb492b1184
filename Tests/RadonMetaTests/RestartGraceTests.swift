import Foundation
import Logging
import RadonMeta
import RadonWire
import Testing

/// A service restarted on an existing database does not know yet which files its clients hold
/// open: for one lease a file losing its last name stays an orphan, not freed.
@Suite("Restart grace for open files")
struct RestartGraceTests {
    @Test func aRestartedServiceKeepsUnlinkedFilesForOneLease() async throws {
        let fixture = try await StoreFixture()
        let store = fixture.store
        var logger = Logger(label: "test.meta")
        logger.logLevel = .warning
        let first = try await fixture.createFile("first", in: StoreFixture.rootInode).attributes.inode
        let second = try await fixture.createFile("second", in: StoreFixture.rootInode).attributes.inode
        _ = MetaService(store: store, logger: logger, sessionLease: .milliseconds(500), restarted: true)

        _ = try await store.remove(NameRequest(parent: StoreFixture.rootInode, name: "first", caller: .root))
        #expect(try await store.attributes(of: first).linkCount == 0, "kept as an orphan within the lease")
        #expect(try await store.orphans(limit: 10) == [first])

        try await Task.sleep(for: .milliseconds(600))
        _ = try await store.remove(NameRequest(parent: StoreFixture.rootInode, name: "second", caller: .root))
        await expectErrno(ENOENT) { _ = try await store.attributes(of: second) }
    }

    @Test func aFreshServiceFreesUnlinkedFilesAtOnce() async throws {
        let fixture = try await StoreFixture()
        var logger = Logger(label: "test.meta")
        logger.logLevel = .warning
        let inode = try await fixture.createFile("file", in: StoreFixture.rootInode).attributes.inode
        _ = MetaService(store: fixture.store, logger: logger, sessionLease: .seconds(20))
        _ = try await fixture.store.remove(NameRequest(parent: StoreFixture.rootInode, name: "file", caller: .root))
        await expectErrno(ENOENT) { _ = try await fixture.store.attributes(of: inode) }
    }
}
