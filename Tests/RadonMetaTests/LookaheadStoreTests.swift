import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// A lookup with the entries that follow (`LookaheadRequest`): what a client scanning a
/// directory is sent ahead, and to whom.
@Suite("Metadata store: lookahead")
struct LookaheadStoreTests {
    let root = StoreFixture.rootInode

    func lookahead(_ fixture: StoreFixture, _ name: FileName, in directory: UInt64, following: UInt32,
                   caller: MetaCaller = .root) async throws -> LookaheadReply {
        try await fixture.store.lookup(LookaheadRequest(parent: directory, name: name, caller: caller, following: following))
    }

    @Test(arguments: TestEngine.all) func theEntriesAfterTheNameComeInListingOrder(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let directory = try await fixture.makeDirectory("d", in: root)
        var created: [CreateReply] = []
        for index in 0..<10 { created.append(try await fixture.createFile(FileName("f\(9 - index)"), in: directory.inode)) }
        let reply = try await lookahead(fixture, "f7", in: directory.inode, following: 4)
        #expect(reply.attributes == created[2].attributes)
        #expect(reply.following.map(\.name) == ["f6", "f5", "f4", "f3"], "creation order, which is readdir's")
        #expect(reply.following.map(\.attributes) == created[3..<7].map(\.attributes))
        let listing = try await fixture.store.readDirectory(ReadDirectoryRequest(inode: directory.inode, after: 0, limit: 100))
        #expect(reply.following.map(\.cookie) == listing.filter { ["f6", "f5", "f4", "f3"].contains($0.name) }.map(\.cookie))
        let end = try await lookahead(fixture, "f1", in: directory.inode, following: 50)
        #expect(end.following.map(\.name) == ["f0"], "fewer at the directory's end")
        #expect(try await lookahead(fixture, "f0", in: directory.inode, following: 50).following.isEmpty)
        #expect(try await lookahead(fixture, "f5", in: directory.inode, following: 0).following.isEmpty)
    }

    @Test(arguments: TestEngine.all) func aCallerWhoMayNotListTheDirectoryGetsTheLookupAlone(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let alice = StoreFixture.alice, bob = StoreFixture.bob
        let directory = try await fixture.sharedDirectory("d")
        for name in ["a", "b", "c"] { try await fixture.createFile(FileName(name), in: directory, caller: alice) }
        // Search but no read for others: bob may look names up, not list them.
        _ = try await store.setAttributes(SetAttributesRequest(inode: directory, changes: AttributeChanges(permissions: 0o711), caller: .root))
        let searched = try await lookahead(fixture, "a", in: directory, following: 10, caller: bob)
        #expect(searched.following.isEmpty)
        #expect(try await lookahead(fixture, "a", in: directory, following: 10, caller: .root).following.map(\.name) == ["b", "c"])
        // No search permission: the lookup itself fails, as a plain one does.
        _ = try await store.setAttributes(SetAttributesRequest(inode: directory, changes: AttributeChanges(permissions: 0o700), caller: .root))
        await expectErrno(EACCES) { _ = try await lookahead(fixture, "a", in: directory, following: 10, caller: bob) }
    }

    @Test(arguments: TestEngine.all) func failuresAndDotNamesAreALookups(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let directory = try await fixture.makeDirectory("d", in: root)
        let file = try await fixture.createFile("f", in: directory.inode)
        try await fixture.createFile("g", in: directory.inode)
        await expectErrno(ENOENT) { _ = try await lookahead(fixture, "missing", in: directory.inode, following: 10) }
        await expectErrno(ENOTDIR) { _ = try await lookahead(fixture, "x", in: file.attributes.inode, following: 10) }
        let dot = try await lookahead(fixture, ".", in: directory.inode, following: 10)
        #expect(dot.attributes.inode == directory.inode && dot.following.isEmpty)
        let dotDot = try await lookahead(fixture, "..", in: directory.inode, following: 10)
        #expect(dotDot.attributes.inode == root && dotDot.following.isEmpty)
    }

    @Test func theMessagesRoundTrip() throws {
        try expectRoundTrip(LookaheadRequest(parent: 9, name: "name", caller: MetaCaller(uid: 5, gid: 6, groups: [7]), following: 64))
        let time = Timestamp(seconds: 1, nanoseconds: 2)
        let attributes = InodeAttributes(inode: 3, kind: .regular, permissions: 0o600, linkCount: 1, uid: 5, gid: 6, rdev: 0,
                                         size: 10, accessTime: time, modificationTime: time, changeTime: time, generation: 1)
        try expectRoundTrip(LookaheadReply(attributes: attributes, following: [DirectoryEntry(name: "n", attributes: attributes, cookie: 4)]))
        try expectRoundTrip(LookaheadReply(attributes: attributes, following: []))
    }
}
