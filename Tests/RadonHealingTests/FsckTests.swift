import Foundation
import RadonClient
import RadonTestSupport
import Testing

/// `radonfs fsck` on a real cluster: a seeded set of inconsistencies on the storage nodes' disks
/// (a fragment file deleted, a fragment file past its file's end as a crashed writer leaves it, a
/// fragment file of a freed inode), each found, repaired with --repair, and a second run clean
/// with every file identical.
@Suite(.serialized) struct FsckTests {
    struct Report: Decodable {
        var files: Int
        var findings: [String]
        var problems: Int
        var repaired: Int
    }

    static func fsck(_ cluster: LocalCluster, _ extra: [String] = []) throws -> Report {
        let output = try cluster.run(["fsck", "--json", "--dir", cluster.directory] + extra, allowFailure: true)
        return try JSONDecoder().decode(Report.self, from: Data(output.utf8))
    }

    @Test("fsck finds a deleted fragment file, blocks past a file's end and fragments of a freed inode, repairs them, then finds nothing")
    func findsAndRepairsSeededDamage() async throws {
        try await HealingCluster.with(nodes: 6) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            // A freed inode (below the highest given out): a file written, then removed (its
            // fragments deleted with it), before the others.
            try await client.store("fsck-freed", patternBytes(count: 200_000, seed: 7))
            let freed = try await client.lookup(parent: 1, name: FileName("fsck-freed"), context: .root).inode
            try await client.removeFile(parent: 1, name: FileName("fsck-freed"), context: .root)
            try await cluster.wait("the freed file's fragments to be deleted") { meta in try await meta.pendingDeletions().isEmpty }
            let digests = try await HealingTests.writeFiles(client, count: 6, prefix: "fsck", seed: 2_000)
            let clean = try Self.fsck(cluster)
            #expect(clean.problems == 0 && clean.findings.isEmpty && clean.files == 6, "\(clean)")

            let (meta, pool) = try await cluster.meta()
            defer { Task { await pool.closeAll() } }
            var layouts: [FileLayout] = []
            for name in digests.keys.sorted() {
                layouts.append(try await meta.fileLayout(of: try await client.lookup(parent: 1, name: FileName(name), context: .root).inode))
            }

            func dataPath(of node: UInt32) async throws -> String {
                for index in 0..<6 where try await cluster.nodeID(ofStorage: index) == node { return try cluster.state().storage[index].dataPath }
                throw TestFailure("no storage daemon for node \(node)")
            }
            func fragmentPath(_ layout: FileLayout, position: Int, inode: UInt64? = nil) async throws -> String {
                "\(try await dataPath(of: layout.group.members[position]))/g\(layout.group.id)/\(inode ?? layout.inode).\(position)"
            }
            // 1. A fragment file deleted.
            let missing = layouts[0]
            try FileManager.default.removeItem(atPath: try await fragmentPath(missing, position: 1))
            // 2. Two slots past the end of another file's fragment file (holes, as a writer that
            //    crashed before publishing its size leaves them).
            let longer = layouts[1]
            let longPath = try await fragmentPath(longer, position: 2)
            let handle = try #require(FileHandle(forUpdatingAtPath: longPath))
            let size = try handle.seekToEnd()
            let slot = UInt64(64 + (64 << 10) / 4)
            try handle.truncate(atOffset: size + 2 * slot)
            try handle.close()
            // 3. A copy of a fragment file under the freed inode's number.
            let orphanPath = try await fragmentPath(layouts[2], position: 0, inode: freed)
            try FileManager.default.copyItem(atPath: try await fragmentPath(layouts[2], position: 0), toPath: orphanPath)

            let found = try Self.fsck(cluster)
            #expect(found.problems == 3, "\(found.findings)")
            #expect(found.findings.contains { $0.contains("inode \(missing.inode): missing fragments at positions 1 ") }, "\(found.findings)")
            #expect(found.findings.contains { $0.contains("inode \(longer.inode): node \(longer.group.members[2]) holds") }, "\(found.findings)")
            #expect(found.findings.contains { $0.contains("/\(freed).0 of no inode") }, "\(found.findings)")

            let repaired = try Self.fsck(cluster, ["--repair"])
            #expect(repaired.repaired == 3, "\(repaired)")
            #expect(!FileManager.default.fileExists(atPath: orphanPath))
            _ = try await cluster.waitForRebuild()
            let after = try Self.fsck(cluster)
            #expect(after.problems == 0 && after.findings.isEmpty, "\(after.findings)")
            #expect(FileManager.default.fileExists(atPath: try await fragmentPath(missing, position: 1)))
            // The repaired fragment is the one read: with two other positions' nodes gone, the
            // file still needs it.
            let others = missing.group.members.enumerated().filter { $0.offset != 1 }.map(\.element).prefix(2)
            for node in others {
                for index in 0..<6 where try await cluster.nodeID(ofStorage: index) == node { try cluster.killStorage(index) }
            }
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await HealingTests.expectIdentical(reader, digests)
        }
    }
}
