import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// The file inventory `radonfs fsck` reads, on both engines: placed files with their written
/// blocks (from the block map), inline ones flagged, removed ones awaiting deletion, pages in
/// inode order, and the highest inode given out.
@Suite("Metadata store: the file inventory for fsck")
struct FileInventoryStoreTests {
    let root = StoreFixture.rootInode

    @Test(arguments: TestEngine.all) func listsFilesRemovedOnesAndWrittenBlocksInPages(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 16, inlineThreshold: 0, groupCount: 8))
        let dense = try await fixture.createFile("dense", in: root)
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: dense.attributes.inode, size: 200_000, writtenBlocks: [BlockRun(first: 0, count: 4)]))
        // Blocks 0 and 5 written, 1-4 holes, then the size set past block 7: 6 written blocks.
        let sparse = try await fixture.createFile("sparse", in: root)
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(
            inode: sparse.attributes.inode, size: 8 << 16, writtenBlocks: [BlockRun(first: 0, count: 1), BlockRun(first: 5, count: 1)]))
        let gone = try await fixture.createFile("gone", in: root)
        _ = try await store.updateSizeAfterWrite(UpdateSizeRequest(inode: gone.attributes.inode, size: 70_000))
        _ = try await store.remove(NameRequest(parent: root, name: "gone", caller: .root))

        let all = try await store.fileInventory(after: 0, limit: 100)
        #expect(all.entries.map(\.inode) == [dense.attributes.inode, sparse.attributes.inode, gone.attributes.inode])
        let byInode = Dictionary(uniqueKeysWithValues: all.entries.map { ($0.inode, $0) })
        let denseEntry = try #require(byInode[dense.attributes.inode])
        #expect(denseEntry.writtenBlocks == 4 && denseEntry.blocksWithinSize == 4 && denseEntry.groupID == dense.groupID && !denseEntry.isInline)
        #expect(byInode[sparse.attributes.inode]?.writtenBlocks == 6 && byInode[sparse.attributes.inode]?.blocksWithinSize == 8)
        #expect(byInode[gone.attributes.inode]?.isAwaitingDeletion == true)
        #expect(all.highestInode == gone.attributes.inode)

        let first = try await store.fileInventory(after: 0, limit: 2)
        let second = try await store.fileInventory(after: try #require(first.entries.last).inode, limit: 2)
        #expect((first.entries + second.entries).map(\.inode) == all.entries.map(\.inode))
    }
}
