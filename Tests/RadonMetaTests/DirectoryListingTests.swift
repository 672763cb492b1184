import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: directory listings")
struct DirectoryListingTests {
    let root = StoreFixture.rootInode

    func list(_ fixture: StoreFixture, _ directory: UInt64, after cookie: UInt64 = 0, limit: UInt32 = 1000) async throws -> [DirectoryEntry] {
        try await fixture.store.readDirectory(ReadDirectoryRequest(inode: directory, after: cookie, limit: limit))
    }

    @Test(arguments: TestEngine.all) func listingStartsWithDotAndDotDotAndCarriesAttributes(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let directory = try await fixture.makeDirectory("d", in: root)
        let file = try await fixture.createFile("f", in: directory.inode)
        let entries = try await list(fixture, directory.inode)
        #expect(entries.map(\.name) == [".", "..", "f"])
        #expect(entries[0].attributes.inode == directory.inode)
        #expect(entries[1].attributes.inode == root)
        #expect(entries[2].attributes == file.attributes)
        #expect(Set(entries.map(\.cookie)).count == 3)
    }

    @Test(arguments: TestEngine.all) func cookiesResumeAcrossConcurrentInsertsAndRemovals(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let directory = try await fixture.makeDirectory("d", in: root)
        for index in 0..<50 { try await fixture.createFile("before-\(index)", in: directory.inode) }
        var seen: [String] = []
        var cookie: UInt64 = 0
        var round = 0
        while true {
            let page = try await list(fixture, directory.inode, after: cookie, limit: 7)
            if page.isEmpty { break }
            seen += page.map { $0.name.description }
            cookie = page.last!.cookie
            // Changes between pages: new names, and a name not yet listed goes away.
            if round < 5 { try await fixture.createFile("during-\(round)", in: directory.inode) }
            if round == 2 { _ = try await store.remove(NameRequest(parent: directory.inode, name: "before-49", caller: .root)) }
            round += 1
        }
        #expect(Set(seen).count == seen.count, "no entry is listed twice")
        for round in 0..<5 { #expect(seen.contains("during-\(round)"), "an entry added behind the cookie is listed") }
        for index in 0..<49 { #expect(seen.contains("before-\(index)"), "entry before-\(index) listed") }
        #expect(!seen.contains("before-49"), "a name removed before it was reached is not listed")
        #expect(seen.prefix(2) == [".", ".."])
    }

    @Test(arguments: TestEngine.all) func smallLimitsStillPageThroughDotEntries(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let directory = try await fixture.makeDirectory("d", in: root)
        try await fixture.createFile("only", in: directory.inode)
        let first = try await list(fixture, directory.inode, limit: 1)
        #expect(first.map(\.name) == ["."])
        let second = try await list(fixture, directory.inode, after: first[0].cookie, limit: 1)
        #expect(second.map(\.name) == [".."])
        let third = try await list(fixture, directory.inode, after: second[0].cookie, limit: 1)
        #expect(third.map(\.name) == ["only"])
        #expect(try await list(fixture, directory.inode, after: third[0].cookie).isEmpty)
    }

    @Test(arguments: TestEngine.all) func listingAFileIsNotADirectory(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let file = try await fixture.createFile("f", in: root)
        await expectErrno(ENOTDIR) { _ = try await list(fixture, file.attributes.inode) }
    }
}

@Suite("Metadata store: extended attributes")
struct ExtendedAttributeStoreTests {
    let root = StoreFixture.rootInode

    @Test(arguments: TestEngine.all) func setGetListRemove(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("f", in: root)
        let inode = file.attributes.inode
        let value: [UInt8] = [0, 1, 2, 255]
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "user.a", value: value, flags: 0, caller: .root))
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "user.b", value: [], flags: 0, caller: .root))
        #expect(try await store.extendedAttribute(ExtendedAttributeRequest(inode: inode, name: "user.a")) == value)
        #expect(try await store.extendedAttribute(ExtendedAttributeRequest(inode: inode, name: "user.b")) == [])
        #expect(try await store.extendedAttributeNames(of: inode) == ["user.a", "user.b"])
        await expectErrno(EEXIST) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "user.a", value: [9], flags: 1, caller: .root))
        }
        await expectErrno(ENODATA) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "user.c", value: [9], flags: 2, caller: .root))
        }
        try await store.removeExtendedAttribute(ExtendedAttributeRequest(inode: inode, name: "user.a", caller: .root))
        await expectErrno(ENODATA) { _ = try await store.extendedAttribute(ExtendedAttributeRequest(inode: inode, name: "user.a")) }
        await expectErrno(ENOENT) {  // no such inode, attribute or not
            _ = try await store.extendedAttribute(ExtendedAttributeRequest(inode: inode + 1000, name: "user.b"))
        }
        await expectErrno(ENODATA) { try await store.removeExtendedAttribute(ExtendedAttributeRequest(inode: inode, name: "user.a", caller: .root)) }
        await expectErrno(EOPNOTSUPP) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "bogus.a", value: [], flags: 0, caller: .root))
        }
        await expectErrno(E2BIG) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: "user.big", value: [UInt8](repeating: 1, count: 65537), flags: 0, caller: .root))
        }
    }

    @Test(arguments: TestEngine.all) func writingNeedsPermission(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let directory = try await fixture.sharedDirectory("d")
        let file = try await fixture.createFile("f", in: directory, caller: StoreFixture.alice, permissions: 0o644)
        await expectErrno(EACCES) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: file.attributes.inode, name: "user.x", value: [1], flags: 0, caller: StoreFixture.bob))
        }
        await expectErrno(EPERM) {
            try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: file.attributes.inode, name: "trusted.x", value: [1], flags: 0, caller: StoreFixture.alice))
        }
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: file.attributes.inode, name: "user.x", value: [1], flags: 0, caller: StoreFixture.alice))
    }

    @Test(arguments: TestEngine.all) func attributesGoWithTheInode(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("f", in: root)
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: file.attributes.inode, name: "user.a", value: [1], flags: 0, caller: .root))
        _ = try await store.remove(NameRequest(parent: root, name: "f", caller: .root))
        await expectErrno(ENOENT) { _ = try await store.extendedAttributeNames(of: file.attributes.inode) }
    }
}
