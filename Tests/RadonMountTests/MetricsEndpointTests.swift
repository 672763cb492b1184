import Foundation
import RadonTestSupport
import Testing

/// Metrics for every part, on by default (issue 14): a cluster with a mount serves a Prometheus
/// endpoint from every process, `up` and `status` list them, `promtool check metrics` passes on
/// each (every metric has its help text), and the numbers follow what the mount did.
@Suite("Metrics endpoints", .serialized)
struct MetricsEndpointTests {
    @Test("every process of a cluster serves metrics that promtool accepts; the mount's and the cluster's follow what happened")
    func everyEndpointPassesPromtool() async throws {
        try await LocalCluster.with(directoryPrefix: "radonfs-metrics", mount: true) { cluster in
            let state = try cluster.state()
            let mount = try #require(state.mount)
            var endpoints = state.metas.map { ("meta", $0.metricsAddress) } + state.storage.map { ("storage", $0.metricsAddress) }
            endpoints.append(("mount", mount.metricsAddress))
            let addresses = try endpoints.map { name, address in (name, try #require(address, "\(name) has no metrics address")) }
            let status = try cluster.run(["status", "--dir", cluster.directory])
            for (_, address) in addresses { #expect(status.contains("http://\(address)/metrics"), "status does not list \(address)") }

            let bytes = patternBytes(count: 300_000, seed: 5)
            let path = "\(mount.mountPoint)/metered"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))

            let mountAddress = addresses.last!.1
            var mountText = ""
            try await poll("the mount to count the bytes written", timeout: .seconds(30)) {
                mountText = try await MetricsScrape.text(mountAddress)
                return (MetricsScrape.value(mountText, "radonfs_mount_written_bytes_total") ?? 0) >= 300_000
            }
            #expect((MetricsScrape.value(mountText, "radonfs_mount_operation_duration_seconds_count", labels: "op=\"write\"") ?? 0) > 0)
            #expect((MetricsScrape.value(mountText, "radonfs_mount_operation_duration_seconds_count", labels: "op=\"create\"") ?? 0) >= 1)

            let metaAddress = addresses[0].1
            var metaText = ""
            try await poll("the cluster gauges", timeout: .seconds(30)) {
                metaText = try await MetricsScrape.text(metaAddress)
                return MetricsScrape.value(metaText, "radonfs_cluster_nodes", labels: "state=\"up\"") == 6
            }
            #expect(MetricsScrape.value(metaText, "radonfs_meta_active") == 1)
            #expect(MetricsScrape.value(metaText, "radonfs_cluster_groups", labels: "health=\"healthy\"") == 64)
            #expect(MetricsScrape.value(metaText, "radonfs_volume_losses_survived", labels: "volume=\"default\"") == 2)
            let storageText = try await MetricsScrape.text(addresses[1].1)
            #expect((MetricsScrape.value(storageText, "radonfs_storage_disk_capacity_bytes") ?? 0) > 0)
            #expect(storageText.contains("radonfs_storage_request_duration_seconds_count{op=\"writeFragments\"}"))

            for (name, address) in addresses {
                let text = try await MetricsScrape.text(address)
                let problems = try MetricsScrape.promtoolProblems(text)
                #expect(problems.isEmpty, "promtool on \(name) \(address): \(problems)")
                #expect(!text.contains("# HELP radonfs_") || !text.contains("RadonFS metric radonfs_"), "\(name) has a metric without its own help text")
            }
        }
    }
}
