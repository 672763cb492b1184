import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: rename")
struct RenameStoreTests {
    let root = StoreFixture.rootInode

    @Test(arguments: TestEngine.all) func renameWithinADirectoryKeepsTheInode(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let file = try await fixture.createFile("a", in: root)
        try await fixture.rename("a", in: root, to: "b", in: root)
        #expect(try await fixture.lookup("b", in: root).inode == file.attributes.inode)
        await expectErrno(ENOENT) { _ = try await fixture.lookup("a", in: root) }
    }

    @Test(arguments: TestEngine.all) func replaceDropsTheTargetsLink(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let source = try await fixture.createFile("src", in: root)
        let target = try await fixture.createFile("dst", in: root)
        try await fixture.rename("src", in: root, to: "dst", in: root)
        #expect(try await fixture.lookup("dst", in: root).inode == source.attributes.inode)
        await expectErrno(ENOENT) { _ = try await store.attributes(of: target.attributes.inode) }
    }

    @Test(arguments: TestEngine.all) func noReplaceRefusesAnExistingTarget(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        try await fixture.createFile("a", in: root)
        try await fixture.createFile("b", in: root)
        await expectErrno(EEXIST) { try await fixture.rename("a", in: root, to: "b", in: root, mode: .noReplace) }
        try await fixture.rename("a", in: root, to: "c", in: root, mode: .noReplace)
        #expect(try await fixture.lookup("c", in: root).kind == .regular)
    }

    @Test(arguments: TestEngine.all) func exchangeSwapsBothNames(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("file", in: root)
        let directory = try await fixture.makeDirectory("dir", in: root)
        let other = try await fixture.makeDirectory("other", in: root)
        try await fixture.rename("file", in: root, to: "dir", in: root, mode: .exchange)
        #expect(try await fixture.lookup("dir", in: root).inode == file.attributes.inode)
        #expect(try await fixture.lookup("file", in: root).inode == directory.inode)
        await expectErrno(ENOENT) { try await fixture.rename("file", in: root, to: "missing", in: root, mode: .exchange) }

        // Across directories: a directory and a file swap parents and ".." follows.
        try await fixture.createFile("inner", in: other.inode)
        try await fixture.rename("file", in: root, to: "inner", in: other.inode, mode: .exchange)
        #expect(try await fixture.lookup("inner", in: other.inode).inode == directory.inode)
        #expect(try await fixture.lookup("..", in: directory.inode).inode == other.inode)
        #expect(try await store.attributes(of: other.inode).linkCount == 3)
        #expect(try await store.attributes(of: root).linkCount == 3, "root lost dir, kept other")
    }

    @Test(arguments: TestEngine.all) func aDirectoryCannotMoveIntoItsOwnSubtree(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let a = try await fixture.makeDirectory("a", in: root)
        let b = try await fixture.makeDirectory("b", in: a.inode)
        let c = try await fixture.makeDirectory("c", in: b.inode)
        await expectErrno(EINVAL) { try await fixture.rename("a", in: root, to: "x", in: c.inode) }
        await expectErrno(EINVAL) { try await fixture.rename("a", in: root, to: "x", in: a.inode) }
        await expectErrno(EINVAL) { try await fixture.rename("b", in: a.inode, to: "y", in: b.inode) }
        // Upward is fine.
        try await fixture.rename("c", in: b.inode, to: "c", in: root)
        #expect(try await fixture.lookup("..", in: c.inode).inode == root)
    }

    @Test(arguments: TestEngine.all) func directoryReplacementRules(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let source = try await fixture.makeDirectory("src", in: root)
        let empty = try await fixture.makeDirectory("empty", in: root)
        let full = try await fixture.makeDirectory("full", in: root)
        try await fixture.createFile("f", in: full.inode)
        try await fixture.createFile("plain", in: root)
        await expectErrno(ENOTEMPTY) { try await fixture.rename("src", in: root, to: "full", in: root) }
        await expectErrno(ENOTDIR) { try await fixture.rename("src", in: root, to: "plain", in: root) }
        await expectErrno(EISDIR) { try await fixture.rename("plain", in: root, to: "empty", in: root) }
        let before = try await store.attributes(of: root).linkCount
        try await fixture.rename("src", in: root, to: "empty", in: root)
        #expect(try await fixture.lookup("empty", in: root).inode == source.inode)
        await expectErrno(ENOENT) { _ = try await store.attributes(of: empty.inode) }
        #expect(try await store.attributes(of: root).linkCount == before - 1, "the replaced directory's link is gone")
    }

    @Test(arguments: TestEngine.all) func movingADirectoryMovesItsParentLink(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let from = try await fixture.makeDirectory("from", in: root)
        let to = try await fixture.makeDirectory("to", in: root)
        let moving = try await fixture.makeDirectory("m", in: from.inode)
        #expect(try await store.attributes(of: from.inode).linkCount == 3)
        fixture.clock.advance(seconds: 3)
        try await fixture.rename("m", in: from.inode, to: "m", in: to.inode)
        let fromAfter = try await store.attributes(of: from.inode)
        let toAfter = try await store.attributes(of: to.inode)
        #expect(fromAfter.linkCount == 2)
        #expect(toAfter.linkCount == 3)
        #expect(try await fixture.lookup("..", in: moving.inode).inode == to.inode)
        #expect(fromAfter.modificationTime == fixture.clock.now)
        #expect(toAfter.modificationTime == fixture.clock.now)
        #expect(try await store.attributes(of: moving.inode).changeTime == fixture.clock.now, "the renamed inode's ctime changes")
    }

    @Test(arguments: TestEngine.all) func renameOntoAnotherLinkOfTheSameFileDoesNothing(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("a", in: root)
        _ = try await store.link(LinkRequest(inode: file.attributes.inode, newParent: root, newName: "b", caller: .root))
        try await fixture.rename("a", in: root, to: "b", in: root)
        #expect(try await fixture.lookup("a", in: root).inode == file.attributes.inode)
        #expect(try await fixture.lookup("b", in: root).linkCount == 2)
    }

    @Test(arguments: TestEngine.all) func renameOfAMissingNameOrIntoAFile(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let file = try await fixture.createFile("f", in: root)
        await expectErrno(ENOENT) { try await fixture.rename("missing", in: root, to: "x", in: root) }
        await expectErrno(ENOTDIR) { try await fixture.rename("f", in: root, to: "x", in: file.attributes.inode) }
    }
}
