import Foundation
import RadonClient
import RadonTestSupport
import Testing

/// The cluster gauges follow a rebuild (issue 14): a node of 7 removed with the rebuild held to
/// 0.1 MB/s per worker, the metadata service's endpoint scraped every 300 ms shows groups
/// degraded while their new members are filled, the rebuilt bytes growing with an ETA, then
/// every group healthy; a node killed then shows as down.
@Suite(.serialized) struct RebuildMetricsTests {
    struct Sample {
        var degraded: Double
        var healthy: Double
        var bytes: Double
        var eta: Double
        var finished: Double
        var total: Double
    }

    @Test("metrics scraped during a rebuild: degraded groups, growing rebuilt bytes with an ETA, healthy again; a killed node down")
    func metricsFollowARebuild() async throws {
        try await HealingCluster.with(nodes: 7) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            _ = try await HealingTests.writeFiles(client, count: 24, prefix: "metered", seed: 3_000)
            let address = try #require(try cluster.state().meta.metricsAddress)
            let removed = try await cluster.nodeID(ofStorage: 0)
            let groups = try await {
                let (meta, pool) = try await cluster.meta()
                defer { Task { await pool.closeAll() } }
                return try await meta.groupMap().groups.count
            }()
            try await poll("the cluster gauges", timeout: .seconds(30)) {
                MetricsScrape.value(try await MetricsScrape.text(address), "radonfs_cluster_groups", labels: "health=\"healthy\"") == Double(groups)
            }

            try cluster.run(["node", "remove", "\(removed)", "--dir", cluster.directory, "--rate", "0.1"])
            var samples: [Sample] = []
            try await poll("the rebuild to finish with every group healthy", timeout: .seconds(600), interval: .milliseconds(300)) {
                let text = try await MetricsScrape.text(address)
                let sample = Sample(
                    degraded: MetricsScrape.value(text, "radonfs_cluster_groups", labels: "health=\"degraded\"") ?? 0,
                    healthy: MetricsScrape.value(text, "radonfs_cluster_groups", labels: "health=\"healthy\"") ?? 0,
                    bytes: MetricsScrape.value(text, "radonfs_rebuild_bytes") ?? 0,
                    eta: MetricsScrape.value(text, "radonfs_rebuild_eta_seconds") ?? 0,
                    finished: MetricsScrape.value(text, "radonfs_rebuild_groups", labels: "state=\"finished\"") ?? 0,
                    total: MetricsScrape.value(text, "radonfs_rebuild_groups", labels: "state=\"total\"") ?? 0)
                samples.append(sample)
                return sample.total > 0 && sample.finished == sample.total && sample.healthy == Double(groups)
            }
            print("rebuild metrics: \(samples.count) samples (degraded, healthy, bytes, eta, finished/total): "
                + samples.map { "(\($0.degraded), \($0.healthy), \($0.bytes), \($0.eta), \($0.finished)/\($0.total))" }.joined(separator: " "))
            #expect(samples.contains { $0.degraded > 0 }, "no sample showed degraded groups")
            let during = samples.filter { $0.total > 0 }
            #expect(zip(during, during.dropFirst()).allSatisfy { $0.bytes <= $1.bytes }, "the rebuilt bytes went down")
            #expect(Set(during.map(\.bytes)).filter { $0 > 0 }.count >= 3, "the rebuilt bytes did not grow step by step")
            #expect(during.contains { $0.eta > 0 && $0.finished < $0.total }, "no ETA while the rebuild ran")
            let last = try #require(samples.last)
            #expect(last.degraded == 0 && last.eta == 0)

            try cluster.killStorage(1)
            try await poll("the killed node to show as down", timeout: .seconds(60)) {
                MetricsScrape.value(try await MetricsScrape.text(address), "radonfs_cluster_nodes", labels: "state=\"down\"") == 1
            }
        }
    }
}
