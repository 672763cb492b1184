import ArgumentParser
import Foundation
import RadonClient

/// `radonfs fsck`: the namespace against the fragments on every node.
struct FsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Compare the namespace with the fragment files on every storage node, and repair what is safe to.",
        discussion: """
            Lists every file with fragments (from the metadata service) and every fragment file \
            (from each up storage node), then reports files with missing fragments, fragment \
            files with blocks past the end of their file (left by a writer that crashed before \
            publishing its size), fragment files of no inode, and misplaced ones. With --repair: \
            missing fragments are queued for repair (rebuilt from the other positions by the \
            healing jobs: `radonfs rebuild --watch-only`), blocks past the end of a file open \
            nowhere are truncated, and fragment files of a freed inode are deleted. Fragments of \
            inodes above the highest the namespace gave out, of open files, and misplaced ones \
            are only reported. Nodes that are down are not checked. Exit status: 0 nothing \
            found, 1 problems found and all repaired (or queued), 4 problems left.
            """
    )

    @OptionGroup var cluster: ClusterLocator

    @Flag(name: .long, help: "Repair what is safe to (see above).")
    var repair = false

    @Flag(name: .long, help: "Print every finding, not only the counts.")
    var verbose = false

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        let status = try await meta.status()
        let upNodes = status.nodes.filter { $0.state == .up }
        // The namespace first, then the fragments: a file created in between has an inode above
        // the highest listed (left alone), a write in between only adds slots (to an open file).
        let inventory = try await meta.fileInventory()
        var fragments: [FsckCheck.FragmentFile] = []
        var unreachable: [String] = []
        var listedNodes = Set<UInt32>()
        for node in upNodes {
            do {
                let storage = StorageClient(connection: try await pool.connection(to: node.address), timeout: .seconds(60))
                for group in try await storage.listGroups() {
                    for file in try await storage.listFiles(group: group) {
                        fragments.append(.init(node: node.id, group: group, inode: file.inode, fragmentIndex: Int(file.fragmentIndex), blockCount: file.blockCount))
                    }
                }
                listedNodes.insert(node.id)
            } catch {
                unreachable.append("node \(node.id) (\(node.address)): \(error)")
            }
        }
        let check = FsckCheck(files: inventory.entries, highestInode: inventory.highestInode, groups: status.groups, upNodes: listedNodes, fragments: fragments)
        let repaired = repair ? try await Self.repair(check.problems, meta: meta, pool: pool, nodes: status.nodes) : []

        let notChecked = status.nodes.filter { !listedNodes.contains($0.id) }.map { "node \($0.id) (\($0.state))" }
        if json {
            let report = Report(
                files: check.filesChecked, fragmentFiles: check.fragmentFiles, nodesChecked: listedNodes.count,
                nodesNotChecked: notChecked, findings: check.findings.map(FsckCheck.describe), problems: check.problems.count,
                repaired: repaired.count, awaitingDeletion: check.awaitingDeletion)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("fsck: \(check.filesChecked) files, \(check.fragmentFiles) fragment files on \(listedNodes.count) nodes"
                + (notChecked.isEmpty ? "" : "; not checked: \(notChecked.joined(separator: ", "))")
                + (check.awaitingDeletion > 0 ? "; \(check.awaitingDeletion) removed files awaiting deletion" : ""))
            for line in check.summary { print("  " + line) }
            if verbose { for finding in check.findings { print("  - " + FsckCheck.describe(finding)) } }
            for line in unreachable { print("  cannot list \(line)") }
            if repair { for line in repaired { print("  repaired: " + line) } }
            print(check.problems.isEmpty ? "fsck: clean" : "fsck: \(check.problems.count) problem\(check.problems.count == 1 ? "" : "s"), \(repaired.count) repaired")
        }
        if !check.problems.isEmpty { throw ExitCode(repaired.count == check.problems.count ? 1 : 4) }
    }

    struct Report: Codable {
        var files: Int
        var fragmentFiles: Int
        var nodesChecked: Int
        var nodesNotChecked: [String]
        var findings: [String]
        var problems: Int
        var repaired: Int
        var awaitingDeletion: Int
    }

    /// Acts on `problems`; returns a line per problem repaired (or queued for repair).
    static func repair(_ problems: [FsckCheck.Finding], meta: MetaClient, pool: WireConnectionPool, nodes: [NodeInfo]) async throws -> [String] {
        let addresses = Dictionary(nodes.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
        func storage(_ node: UInt32) async throws -> StorageClient {
            guard let address = addresses[node] else { throw CLIError("node \(node) is not registered") }
            return StorageClient(connection: try await pool.connection(to: address), timeout: .seconds(60))
        }
        var done: [String] = []
        for problem in problems {
            do {
                switch problem {
                case .missingFragments(let inode, let group, let positions):
                    try await meta.reportDamage(DamageReport(groupID: group, inode: inode, blockIndex: 0, fragmentIndices: positions.map(UInt32.init)))
                    done.append("inode \(inode): positions \(positions.map(String.init).joined(separator: ",")) queued for repair")
                case .blocksPastEnd(let file, _, _):
                    // Asked again just before: a file opened since the listing may be being
                    // written past its end right now.
                    guard let now = try await meta.fileInventory(after: file.inode - 1, limit: 1).entries.first,
                          now.inode == file.inode, !now.isOpen, !now.isAwaitingDeletion else { continue }
                    try await storage(file.node).truncate(group: file.group, inode: file.inode, blockCount: now.blocksWithinSize)
                    done.append("inode \(file.inode): node \(file.node) truncated to \(now.blocksWithinSize) blocks")
                case .noInode(let file):
                    let removed = try await storage(file.node).deleteFile(group: file.group, inode: file.inode)
                    done.append("node \(file.node): \(removed) fragment files of freed inode \(file.inode) deleted")
                case .unknownInode, .misplaced:
                    continue
                }
            } catch {
                FileHandle.standardError.write(Data("fsck: could not repair (\(FsckCheck.describe(problem))): \(error)\n".utf8))
            }
        }
        return done
    }
}
