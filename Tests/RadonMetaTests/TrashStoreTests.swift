import Foundation
import NIOCore
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// The trash on both engines: what an unlink or a rename over a file keeps, what a restore
/// gives back, what purge and expiry free (to the pending deletions), a retention of 0 as no
/// trash at all, a restore onto a taken name refused with nothing lost, and open files.
@Suite("Metadata store: the trash")
struct TrashStoreTests {
    let root = StoreFixture.rootInode

    /// A store keeping removed files for a day, with a volume whose files have fragments.
    func trashFixture(_ engine: TestEngine) async throws -> StoreFixture {
        let fixture = try await StoreFixture(engine, trashRetention: 86_400)
        try await fixture.registerNodes(6)
        _ = try await fixture.store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        return fixture
    }

    /// A file of `size` bytes (as a writer publishes it) in `parent`.
    func writtenFile(_ name: FileName, size: UInt64, in parent: UInt64, _ fixture: StoreFixture) async throws -> CreateReply {
        let file = try await fixture.createFile(name, in: parent)
        _ = try await fixture.store.updateSizeAfterWrite(UpdateSizeRequest(inode: file.attributes.inode, size: size))
        return file
    }

    @Test(arguments: TestEngine.all) func anUnlinkedFileIsKeptThenRestoredWithItsAttributes(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        let directory = try await fixture.makeDirectory("docs", in: root).inode
        let file = try await writtenFile("report", size: 300_000, in: directory, fixture)
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: file.attributes.inode, name: "user.tag", value: [1, 2, 3], flags: 0, caller: .root))
        let before = try await store.attributes(of: file.attributes.inode)

        let removal = try await store.remove(NameRequest(parent: directory, name: "report", caller: .root))
        #expect(removal.removed == nil, "a trashed file has nothing to delete")
        await expectErrno(ENOENT) { _ = try await fixture.lookup("report", in: directory) }
        #expect(try await store.pendingDeletions(limit: 10).isEmpty)
        #expect(try await store.orphans(limit: 10).isEmpty, "a trashed file is no orphan")
        #expect(try await !store.reapOrphan(file.attributes.inode))
        let listed = try await store.trashList(after: 0, limit: 100)
        let entry = try #require(listed.first)
        #expect(listed.count == 1)
        #expect(entry.inode == file.attributes.inode && entry.parent == directory && entry.name == "report")
        #expect(entry.path == "/docs/report" && entry.size == 300_000)
        #expect(entry.expiresAt.seconds - entry.removedAt.seconds == 86_400)
        let summary = try await store.trashSettings(TrashSettingsRequest())
        #expect(summary == TrashSummary(retentionSeconds: 86_400, files: 1, bytes: 300_000))
        // fsck's inventory still lists its fragments as a file's, not as orphans.
        let inventory = try await store.fileInventory(after: 0, limit: 100)
        #expect(inventory.entries.contains { $0.inode == file.attributes.inode && !$0.isAwaitingDeletion })

        let restored = try await store.restoreFromTrash(TrashRestoreRequest(inode: file.attributes.inode))
        #expect(restored.path == "/docs/report")
        let after = try await fixture.lookup("report", in: directory)
        #expect(after.inode == before.inode && after.size == before.size && after.permissions == before.permissions)
        #expect(after.uid == before.uid && after.modificationTime == before.modificationTime && after.linkCount == 1)
        #expect(try await store.fileLayout(of: after.inode).group.id == file.groupID)
        #expect(try await store.extendedAttribute(ExtendedAttributeRequest(inode: after.inode, name: "user.tag", caller: .root)) == [1, 2, 3])
        #expect(try await store.trashList(after: 0, limit: 100).isEmpty)
        await expectErrno(ENOENT) { _ = try await store.restoreFromTrash(TrashRestoreRequest(inode: file.attributes.inode)) }
    }

    @Test(arguments: TestEngine.all) func aFileRenamedOverIsKeptAndComesBackElsewhere(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        let old = try await writtenFile("config", size: 70_000, in: root, fixture)
        _ = try await writtenFile("config.new", size: 80_000, in: root, fixture)
        try await fixture.rename("config.new", in: root, to: "config", in: root)
        let entry = try #require(try await store.trashList(after: 0, limit: 100).first)
        #expect(entry.inode == old.attributes.inode && entry.path == "/config")

        // Its name is taken by the new file: refused, and nothing is lost.
        await expectErrno(EEXIST) { _ = try await store.restoreFromTrash(TrashRestoreRequest(inode: old.attributes.inode)) }
        #expect(try await store.trashList(after: 0, limit: 100).map(\.inode) == [old.attributes.inode])
        #expect(try await fixture.lookup("config", in: root).size == 80_000)
        await expectErrno(ENOENT) {
            _ = try await store.restoreFromTrash(TrashRestoreRequest(inode: old.attributes.inode, destination: "/nowhere/config"))
        }

        let restored = try await store.restoreFromTrash(TrashRestoreRequest(inode: old.attributes.inode, destination: "/config.old"))
        #expect(restored.path == "/config.old" && restored.attributes.inode == old.attributes.inode)
        #expect(try await fixture.lookup("config.old", in: root).size == 70_000)
    }

    @Test(arguments: TestEngine.all) func aFileWhoseDirectoryWentComesBackOnlyElsewhere(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        let directory = try await fixture.makeDirectory("tmp", in: root).inode
        let file = try await writtenFile("scratch", size: 1000, in: directory, fixture)
        _ = try await store.remove(NameRequest(parent: directory, name: "scratch", caller: .root))
        try await store.removeDirectory(NameRequest(parent: root, name: "tmp", caller: .root))
        #expect(try await store.trashList(after: 0, limit: 100).first?.path == nil)
        await expectErrno(ENOENT) { _ = try await store.restoreFromTrash(TrashRestoreRequest(inode: file.attributes.inode)) }
        #expect(try await store.restoreFromTrash(TrashRestoreRequest(inode: file.attributes.inode, destination: "/scratch")).path == "/scratch")
    }

    @Test(arguments: TestEngine.all) func purgeAndExpiryFreeToThePendingDeletions(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        let first = try await writtenFile("first", size: 100_000, in: root, fixture)
        _ = try await store.remove(NameRequest(parent: root, name: "first", caller: .root))
        fixture.clock.advance(seconds: 3600)
        let second = try await writtenFile("second", size: 200_000, in: root, fixture)
        _ = try await store.remove(NameRequest(parent: root, name: "second", caller: .root))
        let third = try await writtenFile("third", size: 300_000, in: root, fixture)
        _ = try await store.remove(NameRequest(parent: root, name: "third", caller: .root))

        // Purge: now, whatever the age; an inode not in the trash is skipped.
        #expect(try await store.purgeTrash(TrashPurgeRequest(inodes: [third.attributes.inode, 999_999])) == TrashPurgeReply(files: 1, bytes: 300_000))
        #expect(try await store.pendingDeletions(limit: 10).map(\.inode) == [third.attributes.inode])
        await expectErrno(ENOENT) { _ = try await store.attributes(of: third.attributes.inode) }

        // Expiry: only what is older than the retention.
        #expect(try await store.expireTrash(limit: 100).files == 0)
        fixture.clock.advance(seconds: 86_400 - 1800)
        #expect(try await store.expireTrash(limit: 100) == TrashPurgeReply(files: 1, bytes: 100_000))
        #expect(try await store.trashList(after: 0, limit: 100).map(\.inode) == [second.attributes.inode])
        #expect(Set(try await store.pendingDeletions(limit: 10).map(\.inode)) == [first.attributes.inode, third.attributes.inode])

        // A retention of 0 frees the rest at the next pass.
        _ = try await store.trashSettings(TrashSettingsRequest(retentionSeconds: 0))
        #expect(try await store.expireTrash(limit: 100).files == 1)
        #expect(try await store.trashSettings(TrashSettingsRequest()) == TrashSummary(retentionSeconds: 0, files: 0, bytes: 0))
        #expect(try await store.pendingDeletions(limit: 10).count == 3)
    }

    @Test(arguments: TestEngine.all) func aRetentionOfZeroRemovesAsBefore(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        _ = try await store.trashSettings(TrashSettingsRequest(retentionSeconds: 0))
        let file = try await writtenFile("gone", size: 100_000, in: root, fixture)
        let removal = try await store.remove(NameRequest(parent: root, name: "gone", caller: .root))
        #expect(removal.removed?.inode == file.attributes.inode)
        #expect(try await store.trashList(after: 0, limit: 100).isEmpty)
        #expect(try await store.pendingDeletions(limit: 10).map(\.inode) == [file.attributes.inode])
    }

    @Test(arguments: TestEngine.all) func aNewDatabaseKeepsRemovedFilesForADay(_ engine: TestEngine) async throws {
        // Not the fixture, which sets its own retention: a store as `radonfs meta` opens one.
        let directory = try TemporaryDirectory()
        let store: SQLMetadataStore
        switch engine {
        case .sqlite: store = try SQLMetadataStore(path: directory.path + "/meta.db")
        case .postgres:
            let url = try await PostgresTestServer.freshDatabase()
            store = SQLMetadataStore(engine: try await PostgresEngine.connect(url: url, logger: PostgresTestServer.quietLogger))
        }
        #expect(try await store.trashSettings(TrashSettingsRequest()) == TrashSummary(retentionSeconds: 86_400, files: 0, bytes: 0))
    }

    @Test(arguments: TestEngine.all) func anOpenFileInTheTrashIsFreedOnlyAfterItsLastClose(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        let file = try await writtenFile("open", size: 100_000, in: root, fixture)
        store.openFiles.hold(file.attributes.inode, session: 7)
        _ = try await store.remove(NameRequest(parent: root, name: "open", caller: .root))
        #expect(try await store.attributes(of: file.attributes.inode).linkCount == 0)
        // Closed while in the trash: nothing is freed.
        store.openFiles.release(file.attributes.inode, session: 7)
        #expect(try await !store.reapOrphan(file.attributes.inode))
        // Purged while open again: it stays, an orphan, until its last close.
        store.openFiles.hold(file.attributes.inode, session: 7)
        #expect(try await store.purgeTrash(TrashPurgeRequest(inodes: [], all: true)).files == 1)
        #expect(try await store.pendingDeletions(limit: 10).isEmpty)
        #expect(try await store.orphans(limit: 10) == [file.attributes.inode])
        store.openFiles.release(file.attributes.inode, session: 7)
        #expect(try await store.reapOrphan(file.attributes.inode))
        #expect(try await store.pendingDeletions(limit: 10).map(\.inode) == [file.attributes.inode])
    }

    @Test(arguments: TestEngine.all) func directoriesAndSymbolicLinksAreNotKept(_ engine: TestEngine) async throws {
        let fixture = try await trashFixture(engine)
        let store = fixture.store
        try await fixture.makeDirectory("d", in: root)
        _ = try await store.makeSymbolicLink(MakeSymbolicLinkRequest(parent: root, name: "l", target: Array("d".utf8), caller: .root))
        try await store.removeDirectory(NameRequest(parent: root, name: "d", caller: .root))
        _ = try await store.remove(NameRequest(parent: root, name: "l", caller: .root))
        #expect(try await store.trashList(after: 0, limit: 100).isEmpty)
    }

    @Test func trashMessagesRoundTrip() throws {
        let time = Timestamp(seconds: 1_800_000_000, nanoseconds: 5)
        try expectRoundTrip(TrashListRequest(after: 3, limit: 9))
        try expectRoundTrip(TrashListReply(entries: [
            TrashEntry(inode: 4, parent: 1, name: FileName(bytes: [0x66, 0xFF]), path: "/f", size: 10, removedAt: time, expiresAt: time),
            TrashEntry(inode: 5, parent: 9, name: "g", path: nil, size: 0, removedAt: time, expiresAt: time),
        ]))
        try expectRoundTrip(TrashRestoreRequest(inode: 4))
        try expectRoundTrip(TrashRestoreRequest(inode: 4, destination: "/a/b"))
        try expectRoundTrip(TrashPurgeRequest(inodes: [1, 2], all: false))
        try expectRoundTrip(TrashPurgeReply(files: 2, bytes: 7))
        try expectRoundTrip(TrashSettingsRequest(retentionSeconds: nil))
        try expectRoundTrip(TrashSettingsRequest(retentionSeconds: 0))
        try expectRoundTrip(TrashSummary(retentionSeconds: 86_400, files: 1, bytes: 2))
    }
}
