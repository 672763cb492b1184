import Foundation
import NIOCore
import RadonMeta
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// Client sessions, data tokens and open-file holds, and the orphans the holds keep.
@Suite("Sessions, data tokens, open-file holds")
struct SessionTests {
    @Test func aSessionLapsesWithoutRenewalAndItsHandlersRun() async throws {
        let registry = SessionRegistry(lease: .milliseconds(200))
        let ended = Mutex<[UInt64]>([])
        await registry.onExpiry { id in ended.withLock { $0.append(id) } }
        let kept = await registry.open(clientName: "kept")
        let dropped = await registry.open(clientName: "dropped")
        #expect(kept != dropped)
        try await Task.sleep(for: .milliseconds(120))
        try await registry.renew(kept)
        try await Task.sleep(for: .milliseconds(120))
        let lapsed = await registry.sweep()
        #expect(lapsed == [dropped])
        #expect(ended.withLock { $0 } == [dropped])
        #expect(await registry.isLive(kept))
        do {
            try await registry.renew(dropped)
            Issue.record("a lapsed session was renewed")
        } catch let error as WireError {
            #expect(error.status == .sessionExpired)
        }
        await registry.close(kept)
        #expect(ended.withLock { $0 } == [dropped, kept])
        #expect(await registry.liveCount == 0)
    }

    @Test func aDataTokenHasOneHolderAndPassesToWaitersInOrder() async throws {
        let tokens = DataTokenTable()
        #expect(await tokens.acquire(session: 1, inode: 7, wait: .zero))
        #expect(await tokens.acquire(session: 1, inode: 7, wait: .zero), "the holder may ask again")
        #expect(await !tokens.acquire(session: 2, inode: 7, wait: .zero))
        #expect(await !tokens.acquire(session: 2, inode: 7, wait: .milliseconds(50)), "a wait times out")
        #expect(await tokens.acquire(session: 2, inode: 8, wait: .zero), "tokens are per file")

        async let second = tokens.acquire(session: 2, inode: 7, wait: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        async let third = tokens.acquire(session: 3, inode: 7, wait: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        #expect(await tokens.wanted(from: 1) == [7])
        await tokens.release(session: 9, inode: 7)  // not the holder: nothing happens
        #expect(await tokens.holder(of: 7) == 1)
        await tokens.release(session: 1, inode: 7)
        #expect(await second)
        #expect(await tokens.holder(of: 7) == 2)
        await tokens.releaseAll(session: 2)  // session 2 lapses: its tokens pass on
        #expect(await third)
        #expect(await tokens.holder(of: 7) == 3)
        #expect(await tokens.holder(of: 8) == nil)
    }

    @Test func aLapsedSessionsWaitsEndUnanswered() async throws {
        let tokens = DataTokenTable()
        #expect(await tokens.acquire(session: 1, inode: 7, wait: .zero))
        async let waiting = tokens.acquire(session: 2, inode: 7, wait: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        await tokens.releaseAll(session: 2)
        #expect(await !waiting)
        await tokens.release(session: 1, inode: 7)
        #expect(await tokens.holder(of: 7) == nil)
    }

    @Test func holdsAreCountedPerSession() {
        let holds = OpenFileHolds()
        holds.hold(5, session: 1)
        holds.hold(5, session: 1)
        holds.hold(5, session: 2)
        #expect(!holds.release(5, session: 1))
        #expect(!holds.release(5, session: 1))
        #expect(holds.isOpen(5))
        holds.hold(6, session: 2)
        #expect(Set(holds.releaseAll(session: 2)) == [5, 6])
        #expect(!holds.isOpen(5) && !holds.isOpen(6))
        #expect(holds.release(5, session: 3), "a close nobody matched leaves the file closed")
    }

    @Test(arguments: TestEngine.all) func aCreateThatOpensHoldsTheFileAndAnswersWithItsOpenState(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 20, inlineThreshold: 4096, groupCount: 8))
        let root = StoreFixture.rootInode
        func create(_ name: FileName, exclusive: Bool) async throws -> CreateReply {
            try await store.create(CreateRequest(parent: root, name: name, kind: .regular, permissions: 0o644,
                                                 exclusive: exclusive, caller: .root, openSession: 7))
        }

        let created = try await create("new", exclusive: true)
        let inode = created.attributes.inode
        #expect(created.created)
        #expect(created.parent == (try await store.attributes(of: root)), "the directory as the create left it")
        #expect(created.open == (try await store.openState(of: inode)), "the same state openFile gives")
        #expect(created.open?.inlineBytes == [])
        #expect(store.openFiles.isOpen(inode))
        #expect(store.openFiles.release(inode, session: 7), "held once, for the session asked for")

        // An existing file (create without O_EXCL) is opened with its bytes.
        _ = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 0, bytes: Array("kept".utf8)))
        let existing = try await create("new", exclusive: false)
        #expect(!existing.created)
        #expect(existing.open?.inlineBytes == Array("kept".utf8))
        #expect(store.openFiles.release(inode, session: 7))

        // A create that fails holds nothing.
        await expectErrno(EEXIST) { _ = try await create("new", exclusive: true) }
        #expect(!store.openFiles.isOpen(inode))
        // Without a session nothing is opened.
        let plain = try await fixture.createFile("plain", in: root)
        #expect(plain.open == nil && !store.openFiles.isOpen(plain.attributes.inode))
    }

    @Test(arguments: TestEngine.all) func anUnlinkedFileOpenSomewhereStaysAnOrphanUntilReaped(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let open = try await fixture.createFile("open", in: StoreFixture.rootInode).attributes.inode
        let closed = try await fixture.createFile("closed", in: StoreFixture.rootInode).attributes.inode
        store.openFiles.hold(open, session: 1)
        _ = try await store.remove(NameRequest(parent: StoreFixture.rootInode, name: "open", caller: .root))
        _ = try await store.remove(NameRequest(parent: StoreFixture.rootInode, name: "closed", caller: .root))
        let orphan = try await store.attributes(of: open)
        #expect(orphan.linkCount == 0)
        await expectErrno(ENOENT) { _ = try await store.attributes(of: closed) }
        await expectErrno(ENOENT) { _ = try await fixture.lookup("open", in: StoreFixture.rootInode) }
        await expectErrno(ENOENT) {
            _ = try await store.link(LinkRequest(inode: open, newParent: StoreFixture.rootInode, newName: "again", caller: .root))
        }
        #expect(try await store.orphans(limit: 10) == [open])
        #expect(try await store.reapOrphan(open))
        #expect(try await !store.reapOrphan(open))
        #expect(try await store.orphans(limit: 10).isEmpty)
        await expectErrno(ENOENT) { _ = try await store.attributes(of: open) }
    }

    @Test(arguments: TestEngine.all) func aFileRenamedOverWhileOpenStaysAnOrphan(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let victim = try await fixture.createFile("victim", in: StoreFixture.rootInode).attributes.inode
        try await fixture.createFile("new", in: StoreFixture.rootInode)
        fixture.store.openFiles.hold(victim, session: 4)
        try await fixture.rename("new", in: StoreFixture.rootInode, to: "victim", in: StoreFixture.rootInode)
        #expect(try await fixture.store.attributes(of: victim).linkCount == 0)
        #expect(try await fixture.store.orphans(limit: 10) == [victim])
    }

    @Test func sessionMessagesRoundTrip() throws {
        try expectRoundTrip(OpenSessionRequest(clientName: "host pid 1"))
        try expectRoundTrip(SessionRequest(session: .max))
        try expectRoundTrip(SessionLease(session: 3, leaseMilliseconds: 20_000, wantedTokens: [1, 2, .max]))
        try expectRoundTrip(SessionInodeRequest(session: 1, inode: 2))
        try expectRoundTrip(AcquireDataTokenRequest(session: 1, inode: 2, waitMilliseconds: 10_000))
        try expectRoundTrip(DataTokenGrant(attributes: nil))
        #expect(Duration.seconds(2.5).wireMilliseconds == 2500)
    }
}

/// The block map behind st_blocks.
@Suite("Block map")
struct BlockMapTests {
    @Test(arguments: TestEngine.all) func onlyWrittenBlocksCountAndTruncationForgetsThosePastTheEnd(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        try await fixture.registerNodes(6)
        _ = try await fixture.store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 20, groupCount: 8))
        let inode = try await fixture.createFile("sparse", in: StoreFixture.rootInode).attributes.inode
        let store = fixture.store
        _ = try await store.fileLayout(of: inode)
        _ = try await store.clearInline(of: inode)
        let megabyte: UInt64 = 1 << 20
        // truncate -s 100M: all holes.
        var attributes = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 100 * megabyte), caller: .root))
        #expect(attributes.allocatedBytes == 0)
        // Block 50 and blocks 98-99 written; the file ends 10 bytes into block 99.
        attributes = try await store.updateSizeAfterWrite(UpdateSizeRequest(
            inode: inode, size: 99 * megabyte + 10, writtenBlocks: [BlockRun(first: 50, count: 1), BlockRun(first: 98, count: 2)]))
        #expect(attributes.size == 100 * megabyte)
        #expect(attributes.allocatedBytes == 3 * megabyte)
        #expect(try await store.attributes(of: inode).allocatedBytes == 3 * megabyte)
        attributes = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 98 * megabyte + 5), caller: .root))
        #expect(attributes.allocatedBytes == megabyte + 5)
        // Growing again: block 99 was dropped by the truncation and reads as a hole.
        attributes = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 100 * megabyte), caller: .root))
        #expect(attributes.allocatedBytes == 2 * megabyte)
        #expect(BlockRun.runs(of: [5, 3, 4, 9, 4]) == [BlockRun(first: 3, count: 3), BlockRun(first: 9, count: 1)])
    }
}
