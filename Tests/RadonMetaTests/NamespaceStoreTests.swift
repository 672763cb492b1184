import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: namespace")
struct NamespaceStoreTests {
    let root = StoreFixture.rootInode

    @Test(arguments: TestEngine.all) func rootIsADirectoryWithTwoLinks(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let attributes = try await store.attributes(of: root)
        #expect(attributes.kind == .directory)
        #expect(attributes.linkCount == 2)
        #expect(attributes.mode == 0o40755)
    }

    @Test(arguments: TestEngine.all) func createThenLookupAndStat(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let created = try await fixture.createFile("a.txt", in: root, caller: .root, permissions: 0o640)
        #expect(created.created)
        #expect(created.attributes.kind == .regular)
        #expect(created.attributes.permissions == 0o640)
        #expect(created.attributes.linkCount == 1)
        #expect(created.attributes.size == 0)
        #expect(created.isInline, "files start inline while the default threshold applies")
        let found = try await fixture.lookup("a.txt", in: root)
        #expect(found == created.attributes)
        #expect(try await store.attributes(of: found.inode) == found)
    }

    @Test(arguments: TestEngine.all) func exclusiveCreateRefusesAnExistingName(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.createFile("x", in: root)
        await expectErrno(EEXIST) { try await fixture.createFile("x", in: root) }
        let again = try await store.create(CreateRequest(parent: root, name: "x", kind: .regular, permissions: 0o600, exclusive: false, caller: .root))
        #expect(!again.created)
        #expect(again.attributes.permissions == 0o644, "O_CREAT without O_EXCL returns the file as it is")
    }

    @Test(arguments: TestEngine.all) func inodeNumbersAreNeverReused(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let first = try await fixture.createFile("f", in: root)
        _ = try await store.remove(NameRequest(parent: root, name: "f", caller: .root))
        let second = try await fixture.createFile("f", in: root)
        #expect(second.attributes.inode > first.attributes.inode)
    }

    /// Names are bytes: ones that are not UTF-8 are distinct entries (never merged by a repair),
    /// listed, renamed and removed byte for byte.
    @Test(arguments: TestEngine.all) func namesAreBytesNotText(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let first = FileName(bytes: Array("bad".utf8) + [0xFF])
        let second = FileName(bytes: Array("bad".utf8) + [0xFE])
        let a = try await fixture.createFile(first, in: root)
        let b = try await fixture.createFile(second, in: root)
        #expect(a.attributes.inode != b.attributes.inode)
        #expect(try await fixture.lookup(first, in: root).inode == a.attributes.inode)
        await expectErrno(ENOENT) { _ = try await fixture.lookup(FileName(bytes: Array("bad".utf8) + [0xEF, 0xBF, 0xBD]), in: root) }
        let listed = try await store.readDirectory(ReadDirectoryRequest(inode: root, after: 0, limit: 100)).map(\.name)
        #expect(listed.contains(first) && listed.contains(second))
        let renamed = FileName(bytes: [0x80, 0x0A, 0x1B])
        try await fixture.rename(first, in: root, to: renamed, in: root)
        #expect(try await fixture.lookup(renamed, in: root).inode == a.attributes.inode)
        #expect(renamed.description == "\\x80\\n\\x1b")
        _ = try await store.remove(NameRequest(parent: root, name: renamed, caller: .root))
        await expectErrno(ENOENT) { _ = try await fixture.lookup(renamed, in: root) }
    }

    @Test(arguments: TestEngine.all) func namesAreBoundedAndValidated(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let longest = FileName(String(repeating: "n", count: 255))
        try await fixture.createFile(longest, in: root)
        #expect(try await fixture.lookup(longest, in: root).kind == .regular)
        await expectErrno(ENAMETOOLONG) { try await fixture.createFile(FileName(String(repeating: "n", count: 256)), in: root) }
        // 255 bytes of UTF-8 is fewer characters: "é" is two bytes.
        await expectErrno(ENAMETOOLONG) { try await fixture.createFile(FileName(String(repeating: "é", count: 128)), in: root) }
        await expectErrno(EINVAL) { try await fixture.createFile(FileName(bytes: [0x61, 0, 0x62]), in: root) }
        await expectErrno(EINVAL) { try await fixture.createFile("a/b", in: root) }
        await expectErrno(EINVAL) { try await fixture.createFile("", in: root) }
        await expectErrno(EINVAL) { try await fixture.makeDirectory("..", in: root) }
    }

    @Test(arguments: TestEngine.all) func directoriesCountTheirSubdirectoriesAsLinks(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let parent = try await fixture.makeDirectory("p", in: root)
        #expect(parent.linkCount == 2)
        try await fixture.makeDirectory("c1", in: parent.inode)
        try await fixture.makeDirectory("c2", in: parent.inode)
        try await fixture.createFile("f", in: parent.inode)
        #expect(try await store.attributes(of: parent.inode).linkCount == 4)
        #expect(try await store.attributes(of: root).linkCount == 3)
        try await store.removeDirectory(NameRequest(parent: parent.inode, name: "c1", caller: .root))
        #expect(try await store.attributes(of: parent.inode).linkCount == 3)
    }

    @Test(arguments: TestEngine.all) func removeDirectoryRules(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let parent = try await fixture.makeDirectory("p", in: root)
        try await fixture.createFile("f", in: parent.inode)
        await expectErrno(ENOTEMPTY) { try await store.removeDirectory(NameRequest(parent: root, name: "p", caller: .root)) }
        await expectErrno(ENOTDIR) { try await store.removeDirectory(NameRequest(parent: parent.inode, name: "f", caller: .root)) }
        await expectErrno(EISDIR) { _ = try await store.remove(NameRequest(parent: root, name: "p", caller: .root)) }
        await expectErrno(ENOENT) { try await store.removeDirectory(NameRequest(parent: root, name: "nope", caller: .root)) }
        _ = try await store.remove(NameRequest(parent: parent.inode, name: "f", caller: .root))
        try await store.removeDirectory(NameRequest(parent: root, name: "p", caller: .root))
        await expectErrno(ENOENT) { _ = try await fixture.lookup("p", in: root) }
        await expectErrno(ENOENT) { _ = try await store.attributes(of: parent.inode) }
    }

    @Test(arguments: TestEngine.all) func hardLinksShareTheInodeAndItsLinkCount(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("orig", in: root)
        let directory = try await fixture.makeDirectory("d", in: root)
        let linked = try await store.link(LinkRequest(inode: file.attributes.inode, newParent: directory.inode, newName: "alias", caller: .root))
        #expect(linked.linkCount == 2)
        #expect(try await fixture.lookup("alias", in: directory.inode).inode == file.attributes.inode)
        await expectErrno(EEXIST) { _ = try await store.link(LinkRequest(inode: file.attributes.inode, newParent: root, newName: "orig", caller: .root)) }
        await expectErrno(EPERM) { _ = try await store.link(LinkRequest(inode: directory.inode, newParent: root, newName: "dirlink", caller: .root)) }
        _ = try await store.remove(NameRequest(parent: root, name: "orig", caller: .root))
        let survivor = try await fixture.lookup("alias", in: directory.inode)
        #expect(survivor.linkCount == 1)
        _ = try await store.remove(NameRequest(parent: directory.inode, name: "alias", caller: .root))
        await expectErrno(ENOENT) { _ = try await store.attributes(of: file.attributes.inode) }
    }

    @Test(arguments: TestEngine.all) func symbolicLinksKeepTheirTarget(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        // Bytes, not text: one that is not UTF-8 comes back as it went in.
        let target = Array("../some/where/".utf8) + [0xFF, 0xFE] + Array(repeating: UInt8(ascii: "x"), count: 300)
        let link = try await store.makeSymbolicLink(MakeSymbolicLinkRequest(parent: root, name: "l", target: target, caller: .root))
        #expect(link.kind == .symlink)
        #expect(link.size == UInt64(target.count))
        #expect(try await store.readSymbolicLink(link.inode) == target)
        let file = try await fixture.createFile("f", in: root)
        await expectErrno(EINVAL) { _ = try await store.readSymbolicLink(file.attributes.inode) }
        await expectErrno(ENAMETOOLONG) {
            _ = try await store.makeSymbolicLink(MakeSymbolicLinkRequest(parent: root, name: "long", target: Array(repeating: UInt8(ascii: "t"), count: 4097), caller: .root))
        }
    }

    @Test(arguments: TestEngine.all) func devicesAndFifosKeepTheirKindAndRdev(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let fifo = try await store.create(CreateRequest(parent: root, name: "fifo", kind: .fifo, permissions: 0o600, exclusive: true, caller: .root))
        #expect(fifo.attributes.kind == .fifo)
        #expect(!fifo.isInline)
        let device = try await store.create(CreateRequest(parent: root, name: "dev", kind: .characterDevice, permissions: 0o600, rdev: 0x0103, exclusive: true, caller: .root))
        #expect(device.attributes.rdev == 0x0103)
        await expectErrno(EINVAL) {
            _ = try await store.create(CreateRequest(parent: root, name: "d", kind: .directory, permissions: 0o755, exclusive: true, caller: .root))
        }
    }

    @Test(arguments: TestEngine.all) func timesChangeAsPOSIXSays(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let directory = try await fixture.makeDirectory("d", in: root)
        fixture.clock.advance(seconds: 10)
        let file = try await fixture.createFile("f", in: directory.inode)
        let afterCreate = try await store.attributes(of: directory.inode)
        #expect(afterCreate.modificationTime > directory.modificationTime, "a new entry changes the directory's mtime")
        #expect(afterCreate.changeTime == afterCreate.modificationTime)
        #expect(file.attributes.accessTime == file.attributes.modificationTime)

        fixture.clock.advance(seconds: 10)
        let chmodded = try await store.setAttributes(SetAttributesRequest(inode: file.attributes.inode, changes: AttributeChanges(permissions: 0o600), caller: .root))
        #expect(chmodded.changeTime > file.attributes.changeTime, "chmod changes ctime")
        #expect(chmodded.modificationTime == file.attributes.modificationTime, "chmod leaves mtime")
        #expect(chmodded.generation > file.attributes.generation)

        fixture.clock.advance(seconds: 10)
        _ = try await store.link(LinkRequest(inode: file.attributes.inode, newParent: root, newName: "f2", caller: .root))
        let linked = try await store.attributes(of: file.attributes.inode)
        #expect(linked.changeTime > chmodded.changeTime, "link changes the inode's ctime")
        #expect(linked.modificationTime == chmodded.modificationTime)

        let explicit = Timestamp(seconds: 1_000, nanoseconds: 5)
        let touched = try await store.setAttributes(SetAttributesRequest(
            inode: file.attributes.inode, changes: AttributeChanges(accessTime: .at(explicit), modificationTime: .at(explicit)), caller: .root))
        #expect(touched.accessTime == explicit)
        #expect(touched.modificationTime == explicit)
        #expect(touched.changeTime == fixture.clock.now)
    }

    @Test(arguments: TestEngine.all) func truncateSetsSizeAndModificationTime(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("f", in: root)
        fixture.clock.advance(seconds: 5)
        let grown = try await store.setAttributes(SetAttributesRequest(inode: file.attributes.inode, changes: AttributeChanges(size: 100), caller: .root))
        #expect(grown.size == 100)
        #expect(grown.modificationTime == fixture.clock.now)
        let directory = try await fixture.makeDirectory("d", in: root)
        await expectErrno(EISDIR) {
            _ = try await store.setAttributes(SetAttributesRequest(inode: directory.inode, changes: AttributeChanges(size: 0), caller: .root))
        }
    }

    @Test(arguments: TestEngine.all) func lookupOfDotAndDotDot(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let directory = try await fixture.makeDirectory("d", in: root)
        #expect(try await fixture.lookup(".", in: directory.inode).inode == directory.inode)
        #expect(try await fixture.lookup("..", in: directory.inode).inode == root)
        #expect(try await fixture.lookup("..", in: root).inode == root)
        let file = try await fixture.createFile("f", in: root)
        await expectErrno(ENOTDIR) { _ = try await fixture.lookup("x", in: file.attributes.inode) }
    }

    @Test(arguments: TestEngine.all) func storeSurvivesReopening(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let file = try await fixture.createFile("kept", in: root)
        let reopened = try await fixture.reopened()
        #expect(try await reopened.lookup(NameRequest(parent: root, name: "kept", caller: .root)).inode == file.attributes.inode)
    }
}
