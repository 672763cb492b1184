import Foundation
import RadonClient
import RadonTestSupport
import Testing

/// The default 6-node 4+2 cluster has no spare: issue 14 found a node's loss left it one loss
/// from unavailability while `status` and `rebuild` said nothing. Through the real CLI on a real
/// cluster: every healing state as `status --json` and `rebuild --watch` report it, the doubled-up
/// rebuild, the worst next loss, and the nodes' return.
@Suite(.serialized) struct NoSpareHealingTests {
    /// What the tests read of `radonfs status --json`.
    struct StatusJSON: Decodable {
        var protection: ClusterProtection
        var healing: String?
    }

    static func status(_ cluster: LocalCluster) throws -> StatusJSON {
        let output = try cluster.run(["status", "--json", "--dir", cluster.directory])
        return try JSONDecoder().decode(StatusJSON.self, from: Data(output.utf8))
    }

    @Test("6 nodes, 4+2, no spare: full, a node down, rebuild doubled up on a host, the worst next loss (every file reads back), the nodes back (full again)")
    func noSpareOnSixNodes() async throws {
        // Positions stay with a down node until `rebuild` (or its loss) so the down state lasts.
        try await HealingCluster.with(nodes: 6, downAfter: 4, environment: ["RADONFS_NO_REMAP_WHEN_DOWN": "1"]) { cluster in
            // Nothing to do.
            let idle = try cluster.run(["rebuild", "--watch", "--dir", cluster.directory])
            #expect(idle.contains("no rebuild job running or queued") && idle.contains("Protection: full"), "\(idle)")
            var report = try Self.status(cluster)
            #expect(report.protection.isFullyProtected && report.protection.lossesSurvived == 2, "\(report.protection.lines)")

            let client = try await cluster.client()
            defer { Task { await client.close() } }
            let digests = try await HealingTests.writeFiles(client, count: 12, prefix: "nospare", seed: 1_400)

            // A node down, not lost: one loss left, and status says which node to bring back.
            let downID = try await cluster.nodeID(ofStorage: 0)
            try cluster.killStorage(0)
            try await cluster.wait("node \(downID) to be down") { meta in
                try await meta.nodes().first { $0.id == downID }?.state == .down
            }
            report = try Self.status(cluster)
            let groups = try #require(report.protection.volumes.first?.groups)
            #expect(report.protection.lossesSurvived == 1 && report.protection.volumes.first?.groupsDegraded == groups, "\(report.protection.lines)")
            #expect(report.protection.advice.contains { $0.contains("Node \(downID) ") && $0.contains("down") }, "\(report.protection.advice)")
            let table = try cluster.run(["status", "--dir", cluster.directory])
            #expect(table.contains("Protection: REDUCED") && table.contains("survives 1 more node loss now (2 when healthy)"), "\(table)")

            // rebuild: no spare host, so each position doubles up on a surviving node; --watch
            // follows it to the end and then says what the data survives.
            let rebuild = try cluster.run(["rebuild", "--watch", "--dir", cluster.directory])
            #expect(rebuild.contains("rebuild queued for \(groups) placement groups") && rebuild.contains("100%"), "\(rebuild)")
            #expect(rebuild.contains("two fragments on one host"), "\(rebuild)")
            report = try Self.status(cluster)
            let volume = try #require(report.protection.volumes.first)
            #expect(volume.groupsDoubledUp == groups && volume.groupsHealing == 0 && volume.lossesSurvived == 1, "\(report.protection.lines)")
            #expect(report.healing?.contains("rebuild done") == true, "\(report.healing ?? "no healing line")")
            // The doubled-up fragments were written right: a scrub reads every fragment of every
            // group and finds nothing to fix.
            let scrub = try cluster.run(["scrub", "--json", "--dir", cluster.directory])
            #expect(scrub.contains("\"found\": 0,") && scrub.contains("\"failedGroups\": 0"), "\(scrub)")

            // The worst next loss: the node holding two positions in the most groups that hold
            // the test's files (those groups keep exactly k fragments).
            let (meta, pool) = try await cluster.meta()
            var doubledOn: [UInt32: Int] = [:]
            for name in digests.keys {
                let inode = try await client.lookup(parent: 1, name: FileName(name), context: .root).inode
                let members = try await meta.fileLayout(of: inode).group.members
                for member in Set(members) where members.filter({ $0 == member }).count > 1 { doubledOn[member, default: 0] += 1 }
            }
            await pool.closeAll()
            let worst = try #require(doubledOn.max { $0.value < $1.value })
            var worstIndex: Int?
            for index in 1..<6 where try await cluster.nodeID(ofStorage: index) == worst.key { worstIndex = index }
            print("no-spare test: node \(worst.key) holds two positions in the groups of \(worst.value) of \(digests.count) files; killing it")
            try cluster.killStorage(try #require(worstIndex))
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await HealingTests.expectIdentical(reader, digests)

            // Both nodes back: the doubled-up positions spread out onto them by themselves and
            // full protection returns.
            try cluster.restart()
            try await cluster.wait("full protection after the nodes came back", timeout: .seconds(180)) { meta in
                let protection = ClusterProtection(status: try await meta.status(), healing: try await meta.healingStatus())
                return protection.isFullyProtected && protection.lossesSurvived == 2
            }
            report = try Self.status(cluster)
            #expect(report.protection.advice.isEmpty && report.protection.volumes.first?.groupsDoubledUp == 0, "\(report.protection.lines)")
            try await HealingTests.expectIdentical(reader, digests)
        }
    }
}
