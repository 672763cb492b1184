import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// Per-directory layouts and re-encoding on both engines: the `radonfs.layout` attribute read,
/// set (owner or root, directories only, known volumes only), inherited by new files and
/// subdirectories and unset; a file moved to another volume by relayoutBegin/Commit, refused
/// while open or after a change, and its old fragments queued for deletion.
@Suite("Metadata store: directory layouts and re-encoding")
struct LayoutStoreTests {
    let root = StoreFixture.rootInode

    /// Twelve nodes on twelve hosts, a 4+2 default volume and an RS 8+4 one.
    static func twoVolumes(_ fixture: StoreFixture) async throws -> (small: VolumeSettings, wide: VolumeSettings) {
        try await fixture.registerNodes(12)
        let small = try await fixture.store.createVolume(VolumeSpecification(name: "small", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        let wide = try await fixture.store.createVolume(VolumeSpecification(name: "wide", codec: "rs", k: 8, n: 12, blockSize: 1 << 20, inlineThreshold: 0, groupCount: 8))
        return (small, wide)
    }

    func layout(_ store: SQLMetadataStore, _ inode: UInt64) async throws -> String {
        String(decoding: try await store.extendedAttribute(ExtendedAttributeRequest(inode: inode, name: LayoutAttribute.name)), as: UTF8.self)
    }

    func setLayout(_ store: SQLMetadataStore, _ inode: UInt64, _ value: String, caller: MetaCaller = .root) async throws {
        try await store.setExtendedAttribute(SetExtendedAttributeRequest(inode: inode, name: LayoutAttribute.name, value: Array(value.utf8), flags: 0, caller: caller))
    }

    @Test(arguments: TestEngine.all) func directoryLayoutsAreSetInheritedAndUnset(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let (small, wide) = try await Self.twoVolumes(fixture)
        #expect(try await layout(store, root) == "volume=small codec=mojette-systematic k=4 m=2 block_size=65536")

        let archive = try await fixture.makeDirectory("archive", in: root)
        try await setLayout(store, archive.inode, "volume=wide")
        #expect(try await layout(store, archive.inode) == "volume=wide codec=rs k=8 m=4 block_size=1048576")
        let file = try await fixture.createFile("f", in: archive.inode)
        #expect(file.volumeID == wide.id)
        #expect(try await layout(store, file.attributes.inode).hasPrefix("volume=wide "))
        let sub = try await fixture.makeDirectory("sub", in: archive.inode)
        #expect(try await fixture.createFile("g", in: sub.inode).volumeID == wide.id)
        // A bare name, as `setfattr -v wide` gives it, and what a read gave back, both work.
        try await setLayout(store, sub.inode, "small")
        #expect(try await fixture.createFile("h", in: sub.inode).volumeID == small.id)
        try await setLayout(store, sub.inode, try await layout(store, archive.inode))
        #expect(try await fixture.createFile("i", in: sub.inode).volumeID == wide.id)
        // Hidden from listxattr, so cp -a does not copy it onto files.
        #expect(try await store.extendedAttributeNames(of: archive.inode).isEmpty)

        await expectErrno(EINVAL) { try await setLayout(store, archive.inode, "volume=nosuch") }
        await expectErrno(EINVAL) { try await setLayout(store, archive.inode, "codec=rs") }
        await expectErrno(EINVAL) { try await setLayout(store, file.attributes.inode, "volume=small") }
        let user = MetaCaller(uid: 1000, gid: 1000)
        await expectErrno(EPERM) { try await setLayout(store, archive.inode, "volume=small", caller: user) }
        let own = try await fixture.makeDirectory("mine", in: root, caller: .root, permissions: 0o777)
        _ = try await store.setAttributes(SetAttributesRequest(inode: own.inode, changes: AttributeChanges(uid: 1000, gid: 1000), caller: .root))
        try await setLayout(store, own.inode, "volume=wide", caller: user)
        #expect(try await fixture.createFile("x", in: own.inode, caller: user).volumeID == wide.id)

        // Unset: the parent's volume again.
        try await store.removeExtendedAttribute(ExtendedAttributeRequest(inode: sub.inode, name: LayoutAttribute.name))
        #expect(try await layout(store, sub.inode).hasPrefix("volume=wide "))
        try await store.removeExtendedAttribute(ExtendedAttributeRequest(inode: archive.inode, name: LayoutAttribute.name))
        #expect(try await layout(store, archive.inode).hasPrefix("volume=small "))
    }

    @Test(arguments: TestEngine.all) func relayoutMovesAFileUnlessItChangedOrIsOpen(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let (small, wide) = try await Self.twoVolumes(fixture)
        let created = try await fixture.createFile("f", in: root)
        let inode = created.attributes.inode
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: inode, size: 300_000, writtenBlocks: [BlockRun(first: 0, count: 5)]))
        let before = try await store.attributes(of: inode)

        let begin = try await store.relayoutBegin(RelayoutBeginRequest(inode: inode, volumeID: wide.id))
        #expect(begin.source.volume.id == small.id && begin.source.group.id == created.groupID)
        #expect(begin.target.volume.id == wide.id && begin.target.group.volumeID == wide.id && begin.target.members.count == 12)
        let commit = RelayoutCommitRequest(
            inode: inode, volumeID: wide.id, groupID: begin.target.group.id, changeTime: begin.changeTime, writtenBlocks: [BlockRun(first: 0, count: 1)])

        // Open on a client, or changed since the copy began: refused, nothing moves.
        store.openFiles.hold(inode, session: 77)
        await expectStatus(.staleVersion) { _ = try await store.relayoutCommit(commit) }
        store.openFiles.release(inode, session: 77)
        fixture.clock.advance(seconds: 1)
        _ = try await store.setAttributes(SetAttributesRequest(inode: inode, changes: AttributeChanges(permissions: 0o600), caller: .root))
        await expectStatus(.staleVersion) { _ = try await store.relayoutCommit(commit) }
        #expect(try await store.fileLayout(of: inode).volume.id == small.id)

        let again = try await store.relayoutBegin(RelayoutBeginRequest(inode: inode, volumeID: wide.id))
        var current = commit
        current.changeTime = again.changeTime
        let moved = try await store.relayoutCommit(current)
        #expect(try await store.fileLayout(of: inode).volume.id == wide.id)
        #expect(try await store.fileLayout(of: inode).group.id == begin.target.group.id)
        #expect(moved.size == 300_000 && moved.generation > before.generation)
        #expect(moved.modificationTime == before.modificationTime)
        // One 1 MiB block written: 300 000 bytes allocated.
        #expect(moved.allocatedBytes == 300_000)
        // The old fragments are queued for deletion as an unlink's would be.
        let pending = try await store.pendingDeletions(limit: 10)
        #expect(pending.map(\.inode) == [inode] && pending.first?.groupID == created.groupID)
        // A retry of the commit that went through answers as it did.
        #expect(try await store.relayoutCommit(current).inode == inode)
        // Back to the small volume: not before the old fragments are gone.
        let back = try await store.relayoutBegin(RelayoutBeginRequest(inode: inode, volumeID: small.id))
        let backCommit = RelayoutCommitRequest(inode: inode, volumeID: small.id, groupID: back.target.group.id, changeTime: back.changeTime, writtenBlocks: [BlockRun(first: 0, count: 5)])
        await expectStatus(.staleVersion) { _ = try await store.relayoutCommit(backCommit) }
        try await store.confirmDeletions([inode])
        _ = try await store.relayoutCommit(backCommit)
        #expect(try await store.fileLayout(of: inode).volume.id == small.id)
        // A group of another volume is refused.
        await expectErrno(EINVAL) {
            _ = try await store.relayoutCommit(RelayoutCommitRequest(inode: inode, volumeID: small.id, groupID: begin.target.group.id, changeTime: back.changeTime, writtenBlocks: []))
        }
    }
}
