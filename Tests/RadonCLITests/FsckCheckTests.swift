@testable import RadonCLI
import RadonClient
import Testing

/// `FsckCheck`'s rules, one inconsistency at a time, over a made-up group of 3 (2+1) on nodes
/// 10, 11 and 12 with blocks of 4 KiB.
struct FsckCheckTests {
    static let group = PlacementGroup(id: 7, volumeID: 1, index: 0, epoch: 1, members: [10, 11, 12])

    static func file(_ inode: UInt64, size: UInt64 = 10_000, inline: Bool = false, removed: Bool = false, open: Bool = false) -> FileInventoryEntry {
        FileInventoryEntry(
            inode: inode, volumeID: 1, groupID: 7, size: size, blockSize: 4096, writtenBlocks: (size + 4095) / 4096,
            isInline: inline, isAwaitingDeletion: removed, isOpen: open)
    }

    /// Every position's fragment file of `inode`, with `blocks` slots.
    static func fragments(_ inode: UInt64, blocks: UInt64 = 3) -> [FsckCheck.FragmentFile] {
        group.members.enumerated().map { .init(node: $0.element, group: 7, inode: inode, fragmentIndex: $0.offset, blockCount: blocks) }
    }

    static func check(_ files: [FileInventoryEntry], _ fragments: [FsckCheck.FragmentFile], highest: UInt64 = 100, up: Set<UInt32> = [10, 11, 12]) -> FsckCheck {
        FsckCheck(files: files, highestInode: highest, groups: [group], upNodes: up, fragments: fragments)
    }

    @Test("a consistent file, an inline one and an empty one: nothing found")
    func consistent() {
        let result = Self.check([Self.file(5), Self.file(6, size: 100, inline: true), Self.file(8, size: 0)], Self.fragments(5))
        #expect(result.findings.isEmpty && result.filesChecked == 3 && result.fragmentFiles == 3)
    }

    @Test("a position without its fragment file, or with too few slots, is missing; a down node's is not checked")
    func missing() {
        var fragments = Self.fragments(5)
        fragments.removeLast()
        fragments[0].blockCount = 2
        #expect(Self.check([Self.file(5)], fragments).findings == [.missingFragments(inode: 5, group: 7, positions: [0, 2])])
        let skipped = Self.check([Self.file(5)], fragments, up: [10, 11])
        #expect(skipped.findings == [.missingFragments(inode: 5, group: 7, positions: [0])] && skipped.positionsSkipped == 1)
    }

    @Test("slots past the end are a problem for a closed file, a note for an open one")
    func pastEnd() {
        var fragments = Self.fragments(5)
        fragments[1].blockCount = 5
        let closed = Self.check([Self.file(5)], fragments)
        #expect(closed.findings == [.blocksPastEnd(fragments[1], blocksWithinSize: 3, isOpen: false)] && closed.problems.count == 1)
        let open = Self.check([Self.file(5, open: true)], fragments)
        #expect(open.findings.count == 1 && open.problems.isEmpty)
    }

    @Test("fragments of a freed inode are a problem; of an inode never given out, or awaiting deletion, they are not")
    func noInode() {
        let freed = Self.check([], Self.fragments(50))
        #expect(freed.findings.count == 3 && freed.problems.count == 3)
        #expect(freed.findings.allSatisfy { if case .noInode = $0 { true } else { false } })
        let unknown = Self.check([], Self.fragments(500))
        #expect(unknown.findings.count == 3 && unknown.problems.isEmpty)
        let removed = Self.check([Self.file(50, removed: true)], Self.fragments(50))
        #expect(removed.findings.isEmpty && removed.awaitingDeletion == 1)
    }

    @Test("a fragment file at a position its node does not hold, in another group, or of an inline file is misplaced, and only noted")
    func misplaced() {
        var fragments = Self.fragments(5)
        fragments[0].node = 13
        let moved = Self.check([Self.file(5)], fragments)
        #expect(moved.findings.contains { if case .misplaced(let file, _) = $0 { file.node == 13 } else { false } })
        #expect(moved.findings.contains(.missingFragments(inode: 5, group: 7, positions: [0])))
        #expect(moved.problems.count == 1)
        let inline = Self.check([Self.file(6, size: 100, inline: true)], Self.fragments(6, blocks: 1))
        #expect(inline.findings.count == 3 && inline.problems.isEmpty)
    }
}
