import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: inline data, layout, sizes and removals")
struct InlineAndLayoutStoreTests {
    let root = StoreFixture.rootInode

    func makeVolume(_ fixture: StoreFixture, inlineThreshold: UInt32 = 4096) async throws -> VolumeSettings {
        try await fixture.registerNodes(6)
        return try await fixture.store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 20, inlineThreshold: inlineThreshold, groupCount: 8))
    }

    @Test(arguments: TestEngine.all) func smallFilesLiveInTheirInode(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        _ = try await makeVolume(fixture, )
        let file = try await fixture.createFile("small", in: root)
        #expect(file.isInline)
        let inode = file.attributes.inode
        let first = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 0, bytes: Array("hello".utf8)))
        #expect(first.stored)
        #expect(first.attributes.size == 5)
        let second = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 8, bytes: Array("!".utf8)))
        #expect(second.attributes.size == 9)
        let read = try await store.readInline(of: inode)
        #expect(read.isInline)
        #expect(read.bytes == Array("hello".utf8) + [0, 0, 0] + Array("!".utf8))
        let replaced = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 0, bytes: Array("hi".utf8), truncate: true))
        #expect(replaced.attributes.size == 2)
        #expect(try await store.readInline(of: inode).bytes == Array("hi".utf8))
        let truncated = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 1), caller: .root))
        #expect(truncated.size == 1)
        #expect(try await store.readInline(of: inode).bytes == Array("h".utf8))
    }

    @Test(arguments: TestEngine.all) func aWritePastTheThresholdIsRefusedAndTheFileMovesOut(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let volume = try await makeVolume(fixture, inlineThreshold: 64)
        let file = try await fixture.createFile("grows", in: root)
        let inode = file.attributes.inode
        _ = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 0, bytes: [UInt8](repeating: 7, count: 60)))
        let refused = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 60, bytes: [UInt8](repeating: 7, count: 5)))
        #expect(!refused.stored)
        #expect(refused.attributes.size == 60)
        await expectStatus(.unsupported) {
            _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 1000), caller: .root))
        }
        await expectStatus(.unsupported) { _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: inode, size: 100)) }

        let moved = try await store.clearInline(of: inode)
        #expect(moved.isInline)
        #expect(moved.bytes == [UInt8](repeating: 7, count: 60))
        #expect(try await store.readInline(of: inode) == InlineDataReply(isInline: false, bytes: []))
        #expect(try await store.clearInline(of: inode).isInline == false, "clearing twice is harmless")
        let layout = try await store.fileLayout(of: inode)
        #expect(!layout.isInline)
        #expect(layout.volume == volume)
        #expect(layout.members.count == 6)
        #expect(layout.members.map(\.id) == layout.group.members)
        #expect(layout.size == 60)
        let blockWritten = try await store.writeInline(WriteInlineRequest(inode: inode, offset: 0, bytes: [1]))
        #expect(!blockWritten.stored, "a block file never goes back inline")
    }

    @Test(arguments: TestEngine.all) func growingAnEmptyInlineFileMakesHoles(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        _ = try await makeVolume(fixture, inlineThreshold: 64)
        let file = try await fixture.createFile("sparse", in: root)
        let grown = try await store.setAttributes(SetAttributesRequest(inode: file.attributes.inode, changes: AttributeChanges(size: 1 << 30), caller: .root))
        #expect(grown.size == 1 << 30)
        #expect(try await store.fileLayout(of: file.attributes.inode).isInline == false)
    }

    @Test(arguments: TestEngine.all) func sizesOnlyGrowAfterWritesAndTimesFollow(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        _ = try await makeVolume(fixture, inlineThreshold: 0)
        let file = try await fixture.createFile("big", in: root)
        #expect(!file.isInline, "threshold 0: never inline")
        #expect(file.volumeID != 0 && file.groupID != 0)
        let inode = file.attributes.inode
        fixture.clock.advance(seconds: 2)
        let grown = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: inode, size: 5 << 20))
        #expect(grown.size == 5 << 20)
        #expect(grown.modificationTime == fixture.clock.now)
        let notShrunk = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: inode, size: 10, modificationTime: Timestamp(seconds: 5, nanoseconds: 0)))
        #expect(notShrunk.size == 5 << 20)
        #expect(notShrunk.modificationTime == Timestamp(seconds: 5, nanoseconds: 0))
        let shrunk = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(size: 10), caller: .root))
        #expect(shrunk.size == 10)
    }

    @Test(arguments: TestEngine.all) func newFilesTakeTheGroupsInTurn(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        _ = try await makeVolume(fixture, inlineThreshold: 0)
        var groups: [UInt32] = []
        for index in 0..<16 { groups.append(try await fixture.createFile("f\(index)", in: root).groupID) }
        let counts = Dictionary(grouping: groups, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 8)
        #expect(counts.values.allSatisfy { $0 == 2 })
    }

    /// On PostgreSQL a server numbers its creates from a reserve taken from the inode sequence
    /// (`InodeNumberReserve`) and asks for the group before the insert. Two servers on one
    /// database, creating in turn between directories that the insert numbers, must never give
    /// a number twice, and each file's group must still be its number's turn.
    @Test(arguments: TestEngine.all) func twoServersOnOneDatabaseNumberFilesApartAndPlaceThemByNumber(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let volume = try await makeVolume(fixture, inlineThreshold: 0)
        let second = try await fixture.reopened()
        var numbers: [UInt64] = []
        for index in 0..<12 {
            let store = index % 2 == 0 ? fixture.store : second
            let file = try await store.create(CreateRequest(
                parent: root, name: FileName("f\(index)"), kind: .regular, permissions: 0o644, exclusive: true, caller: .root))
            let layout = try await store.fileLayout(of: file.attributes.inode)
            #expect(file.groupID == layout.group.id)
            #expect(UInt64(layout.group.index) == file.attributes.inode % UInt64(volume.groupCount),
                    "file \(index) (inode \(file.attributes.inode)) is in group index \(layout.group.index)")
            numbers.append(file.attributes.inode)
            numbers.append(try await fixture.makeDirectory(FileName("d\(index)"), in: root).inode)
        }
        #expect(Set(numbers).count == numbers.count, "an inode number was given twice: \(numbers)")
        for index in 0..<12 {
            #expect(try await second.lookup(NameRequest(parent: root, name: FileName("f\(index)"), caller: .root)).inode == numbers[2 * index])
        }
    }

    @Test(arguments: TestEngine.all) func filesMadeBeforeAnyVolumeArePlacedLater(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let file = try await fixture.createFile("early", in: root)
        #expect(file.volumeID == 0)
        await expectStatus(.unavailable) { _ = try await store.fileLayout(of: file.attributes.inode) }
        _ = try await makeVolume(fixture, )
        let layout = try await store.fileLayout(of: file.attributes.inode)
        #expect(layout.volume.name == "v")
        #expect(layout.isInline)
    }

    @Test(arguments: TestEngine.all) func removedBlockFilesWaitForTheirFragmentsToBeDeleted(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        _ = try await makeVolume(fixture, inlineThreshold: 0)
        let a = try await fixture.createFile("a", in: root)
        let b = try await fixture.createFile("b", in: root)
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: a.attributes.inode, size: 1 << 20))
        let removed = try await store.remove(NameRequest(parent: root, name: "a", caller: .root))
        #expect(removed.removed == RemovedFile(inode: a.attributes.inode, volumeID: a.volumeID, groupID: a.groupID, size: 1 << 20))
        // The directory as the removal left it, so a client need not ask for it again.
        #expect(removed.parent == (try await store.attributes(of: root)))
        try await fixture.createFile("c", in: root)
        let replaced = try await store.rename(RenameRequest(parent: root, name: "c", newParent: root, newName: "b", mode: .replace, caller: .root))
        #expect(replaced?.inode == b.attributes.inode)
        #expect(try await store.pendingDeletions(limit: 10).map(\.inode) == [a.attributes.inode, b.attributes.inode])
        try await store.confirmDeletions([a.attributes.inode])
        #expect(try await store.pendingDeletions(limit: 10).map(\.inode) == [b.attributes.inode])
    }

    @Test(arguments: TestEngine.all) func inlineFilesLeaveNothingToDelete(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        _ = try await makeVolume(fixture, )
        try await fixture.createFile("tiny", in: root)
        #expect(try await store.remove(NameRequest(parent: root, name: "tiny", caller: .root)).removed == nil)
        #expect(try await store.pendingDeletions(limit: 10).isEmpty)
    }

    @Test(arguments: TestEngine.all) func layoutOfADirectoryIsRefused(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        await expectErrno(EISDIR) { _ = try await store.fileLayout(of: StoreFixture.rootInode) }
        await expectErrno(ENOENT) { _ = try await store.fileLayout(of: 12345) }
    }
}
