import RadonClient

/// What `radonfs fsck` finds when it compares the namespace's files with the fragment files
/// every up storage node lists: a pure function of the two, so every rule is testable alone.
///
/// The rules, for a file placed in group g (fragment j of each block on `g.members[j]`):
/// - every position whose node is up holds a fragment file with a slot for each block ever
///   written (`writtenBlocks`); else the file is **missing fragments** there;
/// - no position holds slots past the file's size: those are **blocks past the end**, left by
///   a writer that crashed before publishing its size (or a truncate a node missed); an open
///   file's are a write in flight and only noted;
/// - a fragment file whose inode the namespace does not list is of **no inode**, unless the
///   inode is above the highest the namespace has given out (a newer or foreign database:
///   **unknown inode**, never deleted) or awaits deletion (the sweep's business);
/// - a fragment file of a listed inode in another group, at a position its node no longer
///   holds, or of an inline file, is **misplaced**: the node's own sweep deletes a whole group
///   it left; within a group it still serves, fsck only reports it.
struct FsckCheck {
    struct FragmentFile: Hashable {
        var node: UInt32
        var group: UInt32
        var inode: UInt64
        var fragmentIndex: Int
        var blockCount: UInt64
    }

    enum Finding: Hashable {
        case missingFragments(inode: UInt64, group: UInt32, positions: [Int])
        case blocksPastEnd(FragmentFile, blocksWithinSize: UInt64, isOpen: Bool)
        case noInode(FragmentFile)
        case unknownInode(FragmentFile)
        case misplaced(FragmentFile, reason: String)
    }

    var findings: [Finding] = []
    var filesChecked = 0
    var fragmentFiles = 0
    var awaitingDeletion = 0
    /// Positions not checked because their node is not up.
    var positionsSkipped = 0

    init(files: [FileInventoryEntry], highestInode: UInt64, groups: [PlacementGroup], upNodes: Set<UInt32>, fragments: [FragmentFile]) {
        let groupsByID = Dictionary(groups.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let filesByInode = Dictionary(files.map { ($0.inode, $0) }, uniquingKeysWith: { first, _ in first })
        var held: [UInt64: [FragmentFile]] = [:]
        fragmentFiles = fragments.count
        for fragment in fragments.sorted(by: { ($0.inode, $0.group, $0.fragmentIndex, $0.node) < ($1.inode, $1.group, $1.fragmentIndex, $1.node) }) {
            guard let file = filesByInode[fragment.inode] else {
                findings.append(fragment.inode > highestInode ? .unknownInode(fragment) : .noInode(fragment))
                continue
            }
            if file.isAwaitingDeletion { continue }
            if file.isInline {
                findings.append(.misplaced(fragment, reason: "the file's bytes are inline"))
            } else if fragment.group != file.groupID {
                findings.append(.misplaced(fragment, reason: "the file is in group \(file.groupID)"))
            } else if let group = groupsByID[fragment.group], group.members.indices.contains(fragment.fragmentIndex),
                      group.members[fragment.fragmentIndex] == fragment.node {
                held[fragment.inode, default: []].append(fragment)
                if fragment.blockCount > file.blocksWithinSize {
                    findings.append(.blocksPastEnd(fragment, blocksWithinSize: file.blocksWithinSize, isOpen: file.isOpen))
                }
            } else {
                findings.append(.misplaced(fragment, reason: "position \(fragment.fragmentIndex) of group \(fragment.group) is another node's"))
            }
        }
        for file in files.sorted(by: { $0.inode < $1.inode }) {
            if file.isAwaitingDeletion {
                awaitingDeletion += 1
                continue
            }
            filesChecked += 1
            guard !file.isInline, file.writtenBlocks > 0, let group = groupsByID[file.groupID] else { continue }
            let present = Dictionary((held[file.inode] ?? []).map { ($0.fragmentIndex, $0.blockCount) }, uniquingKeysWith: max)
            var missing: [Int] = []
            for (position, member) in group.members.enumerated() {
                guard upNodes.contains(member) else {
                    positionsSkipped += 1
                    continue
                }
                if (present[position] ?? 0) < file.writtenBlocks { missing.append(position) }
            }
            if !missing.isEmpty { findings.append(.missingFragments(inode: file.inode, group: group.id, positions: missing)) }
        }
    }

    /// Findings a repair acts on. The others are noted only: an open file's blocks past its
    /// end (a write in flight), an inode never given out, a misplaced file (the node's sweep's).
    var problems: [Finding] {
        findings.filter { finding in
            switch finding {
            case .missingFragments, .noInode, .blocksPastEnd(_, _, false): true
            case .blocksPastEnd, .unknownInode, .misplaced: false
            }
        }
    }

    /// One line per kind of finding, with counts, then the summary.
    var summary: [String] {
        var missing = 0, pastEnd = 0, inFlight = 0, noInode = 0, unknown = 0, misplaced = 0
        for finding in findings {
            switch finding {
            case .missingFragments: missing += 1
            case .blocksPastEnd(_, _, let isOpen): if isOpen { inFlight += 1 } else { pastEnd += 1 }
            case .noInode: noInode += 1
            case .unknownInode: unknown += 1
            case .misplaced: misplaced += 1
            }
        }
        return [
            "files with missing fragments: \(missing)",
            "fragment files with blocks past the end of their file (crashed writers): \(pastEnd)"
                + (inFlight > 0 ? " (and \(inFlight) of open files: writes in flight, left alone)" : ""),
            "fragment files of no inode: \(noInode)"
                + (unknown > 0 ? " (and \(unknown) of inodes above the highest this namespace gave out: left alone)" : ""),
            "misplaced fragment files: \(misplaced)",
        ]
    }

    /// A sentence per finding, for `--verbose` and the JSON report.
    static func describe(_ finding: Finding) -> String {
        switch finding {
        case .missingFragments(let inode, let group, let positions):
            "inode \(inode): missing fragments at positions \(positions.map(String.init).joined(separator: ",")) of group \(group)"
        case .blocksPastEnd(let file, let within, let isOpen):
            "inode \(file.inode): node \(file.node) holds \(file.blockCount) blocks at position \(file.fragmentIndex), the file has \(within)"
                + (isOpen ? " (open: a write in flight)" : "")
        case .noInode(let file):
            "node \(file.node): fragment file g\(file.group)/\(file.inode).\(file.fragmentIndex) of no inode"
        case .unknownInode(let file):
            "node \(file.node): fragment file g\(file.group)/\(file.inode).\(file.fragmentIndex) of an inode this namespace never gave out"
        case .misplaced(let file, let reason):
            "node \(file.node): fragment file g\(file.group)/\(file.inode).\(file.fragmentIndex) is misplaced: \(reason)"
        }
    }
}
