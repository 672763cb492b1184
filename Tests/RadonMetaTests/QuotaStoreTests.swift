import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// Directory quotas on both engines: usage counted when set, kept by creates, writes,
/// truncation, links, renames, removal and the trash; EDQUOT at the limits; the headroom an
/// open gets; and `df`'s view from inside the directory.
@Suite("Metadata store: directory quotas")
struct QuotaStoreTests {
    let root = StoreFixture.rootInode

    func quota(_ store: SQLMetadataStore, _ inode: UInt64) async throws -> DirectoryQuota {
        try #require(try await store.quotas(of: inode).first)
    }

    func grow(_ store: SQLMetadataStore, _ inode: UInt64, to size: UInt64) async throws {
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: inode, size: size, writtenBlocks: []))
    }

    @Test(arguments: TestEngine.all) func usageIsKeptAndLimitsHold(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        let project = try await fixture.makeDirectory("project", in: root)
        let sub = try await fixture.makeDirectory("sub", in: project.inode)
        let before = try await fixture.createFile("before", in: sub.inode)
        try await grow(store, before.attributes.inode, to: 1000)

        // Counted when set: sub and before, 1000 bytes.
        let set = try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 10_000, maximumFiles: 5))
        #expect(set.first?.usedFiles == 2 && set.first?.usedBytes == 1000)
        #expect(try await store.quotas(of: 0).map(\.path) == ["/project"])
        // A file made before the quota (its directory remembered now) grows against it.
        try await grow(store, before.attributes.inode, to: 3000)
        #expect(try await quota(store, project.inode).usedBytes == 3000)

        let file = try await fixture.createFile("f", in: project.inode)
        #expect(try await store.quotaHeadroom(of: file.attributes.inode) == 7000)
        try await grow(store, file.attributes.inode, to: 7000)
        #expect(try await quota(store, project.inode).usedBytes == 10_000)
        await expectErrno(EDQUOT) { try await grow(store, file.attributes.inode, to: 7001) }
        await expectErrno(EDQUOT) {
            _ = try await store.setAttributes(SetAttributesRequest(inode: file.attributes.inode, changes: AttributeChanges(size: 9000), caller: .root))
        }
        _ = try await store.setAttributes(SetAttributesRequest(inode: file.attributes.inode, changes: AttributeChanges(size: 5000), caller: .root))
        #expect(try await quota(store, project.inode).usedBytes == 8000)
        #expect(try await store.quotaHeadroom(of: file.attributes.inode) == 2000)
        #expect(try await store.quotaHeadroom(of: try await fixture.createFile("outside", in: root).attributes.inode) == .max)

        // Files: sub, before, f, then two more reach 5.
        try await fixture.makeDirectory("d", in: project.inode)
        _ = try await store.makeSymbolicLink(MakeSymbolicLinkRequest(parent: project.inode, name: "l", target: Array("f".utf8), caller: .root))
        await expectErrno(EDQUOT) { try await fixture.createFile("g", in: project.inode) }
        await expectErrno(EDQUOT) { try await fixture.makeDirectory("e", in: sub.inode) }
        await expectErrno(EDQUOT) {
            _ = try await store.link(LinkRequest(inode: file.attributes.inode, newParent: sub.inode, newName: "hard", caller: .root))
        }
        #expect(try await quota(store, project.inode).usedFiles == 5)

        // Renames: within the quota nothing changes; out of it, the usage leaves; back in, it
        // needs room.
        try await fixture.rename("f", in: project.inode, to: "f2", in: sub.inode)
        #expect(try await quota(store, project.inode).usedFiles == 5)
        try await fixture.rename("sub", in: project.inode, to: "sub-out", in: root)
        let afterMove = try await quota(store, project.inode)
        #expect(afterMove.usedFiles == 2 && afterMove.usedBytes == 0)
        _ = try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 5000, maximumFiles: 5))
        await expectErrno(EDQUOT) { try await fixture.rename("sub-out", in: root, to: "sub", in: project.inode) }
        _ = try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 0, maximumFiles: 5))
        try await fixture.rename("sub-out", in: root, to: "sub", in: project.inode)
        #expect(try await quota(store, project.inode).usedFiles == 5)
        #expect(try await quota(store, project.inode).usedBytes == 8000)

        // Removal frees.
        _ = try await store.remove(NameRequest(parent: sub.inode, name: "f2", caller: .root))
        let afterRemove = try await quota(store, project.inode)
        #expect(afterRemove.usedFiles == 4 && afterRemove.usedBytes == 3000)
        try await store.removeDirectory(NameRequest(parent: project.inode, name: "d", caller: .root))
        #expect(try await quota(store, project.inode).usedFiles == 3)

        // Both limits 0: the quota goes.
        #expect(try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 0, maximumFiles: 0)).isEmpty)
        #expect(try await store.quotas(of: 0).isEmpty)
    }

    @Test(arguments: TestEngine.all) func statisticsFromInsideShowTheQuota(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        let project = try await fixture.makeDirectory("project", in: root)
        let inner = try await fixture.makeDirectory("inner", in: project.inode)
        let whole = try await store.statistics()
        #expect(try await store.statistics(of: inner.inode).totalBlocks == whole.totalBlocks)
        _ = try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 40 << 20, maximumFiles: 100))
        let file = try await fixture.createFile("f", in: inner.inode)
        try await grow(store, file.attributes.inode, to: 10 << 20)
        let seen = try await store.statistics(of: inner.inode)
        #expect(seen.totalBlocks == (40 << 20) / UInt64(seen.blockSize))
        #expect(seen.freeBlocks == (30 << 20) / UInt64(seen.blockSize))
        #expect(seen.totalInodes == 100 && seen.freeInodes == 98)
        let fromRoot = try await store.statistics(of: root)
        #expect(fromRoot.totalBlocks == whole.totalBlocks && fromRoot.totalInodes == whole.totalInodes)
    }

    @Test(arguments: TestEngine.all) func theTrashLeavesTheQuotaAndARestoreComesBack(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine, trashRetention: 86_400)
        let store = fixture.store
        try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        let project = try await fixture.makeDirectory("project", in: root)
        _ = try await store.setQuota(QuotaSetRequest(inode: project.inode, maximumBytes: 10_000, maximumFiles: 0))
        let file = try await fixture.createFile("f", in: project.inode)
        try await grow(store, file.attributes.inode, to: 6000)
        _ = try await store.remove(NameRequest(parent: project.inode, name: "f", caller: .root))
        #expect(try await quota(store, project.inode).usedBytes == 0)
        _ = try await store.restoreFromTrash(TrashRestoreRequest(inode: file.attributes.inode))
        let restored = try await quota(store, project.inode)
        #expect(restored.usedBytes == 6000 && restored.usedFiles == 1)
    }
}
