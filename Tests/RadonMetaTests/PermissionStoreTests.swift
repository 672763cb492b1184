import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: permissions")
struct PermissionStoreTests {
    let root = StoreFixture.rootInode
    let alice = StoreFixture.alice
    let bob = StoreFixture.bob

    @Test(arguments: TestEngine.all) func creatingNeedsWriteAndSearchOnTheParent(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        await expectErrno(EACCES) { try await fixture.createFile("f", in: root, caller: alice) }
        let home = try await fixture.makeDirectory("home", in: root)
        _ = try await store.setAttributes(SetAttributesRequest(inode: home.inode, changes: AttributeChanges(uid: alice.uid, gid: alice.gid), caller: .root))
        let file = try await fixture.createFile("f", in: home.inode, caller: alice)
        #expect(file.attributes.uid == alice.uid)
        #expect(file.attributes.gid == alice.gid)
        await expectErrno(EACCES) { try await fixture.createFile("g", in: home.inode, caller: bob) }
        await expectErrno(EACCES) { _ = try await store.remove(NameRequest(parent: home.inode, name: "f", caller: bob)) }
        // Search permission: without x on the directory, even lookup fails.
        _ = try await store.setAttributes(SetAttributesRequest(inode: home.inode, changes: AttributeChanges(permissions: 0o700), caller: alice))
        await expectErrno(EACCES) { _ = try await fixture.lookup("f", in: home.inode, caller: bob) }
        #expect(try await fixture.lookup("f", in: home.inode, caller: .root).inode == file.attributes.inode, "root bypasses")
    }

    @Test(arguments: TestEngine.all) func groupAndSupplementaryGroupsGrantAccess(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let shared = try await fixture.makeDirectory("shared", in: root)
        _ = try await store.setAttributes(SetAttributesRequest(inode: shared.inode, changes: AttributeChanges(permissions: 0o770, gid: 500), caller: .root))
        await expectErrno(EACCES) { try await fixture.createFile("x", in: shared.inode, caller: alice) }
        let member = MetaCaller(uid: alice.uid, gid: alice.gid, groups: [500])
        try await fixture.createFile("x", in: shared.inode, caller: member)
    }

    @Test(arguments: TestEngine.all) func stickyDirectoriesProtectOthersEntries(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let tmp = try await fixture.sharedDirectory("tmp", sticky: true)
        try await fixture.createFile("alices", in: tmp, caller: alice)
        await expectErrno(EPERM) { _ = try await store.remove(NameRequest(parent: tmp, name: "alices", caller: bob)) }
        await expectErrno(EPERM) { try await fixture.rename("alices", in: tmp, to: "mine", in: tmp, caller: bob) }
        _ = try await store.remove(NameRequest(parent: tmp, name: "alices", caller: alice))
        // Without the sticky bit anyone with write access may remove.
        let open = try await fixture.sharedDirectory("open")
        try await fixture.createFile("alices", in: open, caller: alice)
        _ = try await store.remove(NameRequest(parent: open, name: "alices", caller: bob))
    }

    @Test(arguments: TestEngine.all) func onlyTheOwnerChangesModeAndTimes(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let dir = try await fixture.sharedDirectory("d")
        let file = try await fixture.createFile("f", in: dir, caller: alice, permissions: 0o666)
        let inode = file.attributes.inode
        await expectErrno(EPERM) { _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(permissions: 0o777), caller: bob)) }
        await expectErrno(EPERM) {
            _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(modificationTime: .at(Timestamp(seconds: 1, nanoseconds: 0))), caller: bob))
        }
        // "now" needs only write access, which 0666 gives bob.
        _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(accessTime: .now, modificationTime: .now), caller: bob))
        // Truncate needs write access.
        _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(permissions: 0o644), caller: alice))
        await expectErrno(EACCES) { _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 0), caller: bob)) }
    }

    @Test(arguments: TestEngine.all) func chownRules(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let dir = try await fixture.sharedDirectory("d")
        let file = try await fixture.createFile("f", in: dir, caller: alice, permissions: 0o6755)
        let inode = file.attributes.inode
        await expectErrno(EPERM) { _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(uid: bob.uid), caller: alice)) }
        await expectErrno(EPERM) { _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(gid: 4242), caller: alice)) }
        let member = MetaCaller(uid: alice.uid, gid: alice.gid, groups: [4242])
        let regrouped = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(gid: 4242), caller: member))
        #expect(regrouped.gid == 4242)
        #expect(regrouped.permissions & 0o6000 == 0, "chown clears setuid and (group-executable) setgid")
        let given = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(uid: bob.uid), caller: .root))
        #expect(given.uid == bob.uid)
    }

    @Test(arguments: TestEngine.all) func setgidDirectoriesPassOnTheirGroup(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let dir = try await fixture.sharedDirectory("d")
        _ = try await store.setAttributes(SetAttributesRequest(inode: dir, changes: AttributeChanges(permissions: 0o2777, gid: 777), caller: .root))
        let file = try await fixture.createFile("f", in: dir, caller: alice)
        #expect(file.attributes.gid == 777)
        let sub = try await fixture.makeDirectory("sub", in: dir, caller: alice)
        #expect(sub.gid == 777)
        #expect(sub.permissions & 0o2000 != 0)
    }

    @Test(arguments: TestEngine.all) func movingADirectoryNeedsWriteOnIt(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let a = try await fixture.sharedDirectory("a")
        let b = try await fixture.sharedDirectory("b")
        let locked = try await fixture.makeDirectory("locked", in: a, caller: .root, permissions: 0o755)
        _ = locked
        await expectErrno(EACCES) { try await fixture.rename("locked", in: a, to: "locked", in: b, caller: alice) }
        try await fixture.rename("locked", in: a, to: "renamed", in: a, caller: alice)
    }
}
