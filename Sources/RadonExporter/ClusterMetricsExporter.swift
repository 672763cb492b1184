import Logging
import Metrics
import RadonWire

/// The cluster's state as Prometheus gauges, refreshed at each scrape from the metadata
/// service's own answers (`status` and the healing status, through a `MetaClient`): nodes by
/// state, capacity, placement groups by health, what each volume survives, and the progress,
/// rate, ETA and findings of the current (or last) rebuild and scrub.
///
/// Gauges, not counters: each is the state at the last refresh (a rebuild's bytes belong to
/// its run and start again with the next). On a standby server the calls fail with
/// `notActive`; `radonfs_meta_active` is then 0 and the cluster gauges keep their last values
/// (the active server's are the ones to read).
public struct ClusterMetricsExporter: Sendable {
    let meta: MetaClient
    let logger: Logger

    public init(meta: MetaClient, logger: Logger) {
        self.meta = meta
        self.logger = logger
    }

    /// One refresh; a failure other than `notActive` is logged and the gauges keep their values.
    public func refresh() async {
        do {
            let status = try await meta.status()
            let healing = try await meta.healingStatus()
            Gauge(label: "radonfs_meta_active").record(1)
            Self.record(status: status, healing: healing)
        } catch let error as WireError where error.status == .notActive {
            Gauge(label: "radonfs_meta_active").record(0)
        } catch {
            logger.warning("cluster metrics not refreshed", metadata: ["error": "\(error)"])
        }
    }

    static func record(status: ClusterStatus, healing: HealingStatus) {
        for state in [NodeState.up, .down, .lost] {
            Gauge(label: "radonfs_cluster_nodes", dimensions: [("state", "\(state)")]).record(status.nodes.filter { $0.state == state }.count)
        }
        let up = status.nodes.filter { $0.state == .up }
        Gauge(label: "radonfs_cluster_raw_capacity_bytes").record(up.reduce(0) { $0 + Double($1.capacity) })
        Gauge(label: "radonfs_cluster_raw_free_bytes").record(up.reduce(0) { $0 + Double($1.free) })
        if let volume = status.volumes.first(where: \.isDefault) ?? status.volumes.first, volume.n > 0 {
            // What files of the default volume can still take: raw free space times k/n.
            Gauge(label: "radonfs_cluster_usable_free_bytes").record(up.reduce(0) { $0 + Double($1.free) } * Double(volume.k) / Double(volume.n))
        }

        let protection = ClusterProtection(status: status, healing: healing)
        let sum = { (value: (ClusterProtection.Volume) -> Int) in protection.volumes.reduce(0) { $0 + value($1) } }
        Gauge(label: "radonfs_cluster_groups", dimensions: [("health", "healthy")]).record(sum(\.groupsHealthy))
        Gauge(label: "radonfs_cluster_groups", dimensions: [("health", "degraded")]).record(sum(\.groupsDegraded))
        Gauge(label: "radonfs_cluster_groups", dimensions: [("health", "unavailable")]).record(sum(\.groupsUnavailable))
        Gauge(label: "radonfs_cluster_groups_doubled_up").record(sum(\.groupsDoubledUp))
        for volume in protection.volumes {
            Gauge(label: "radonfs_volume_losses_survived", dimensions: [("volume", volume.name)]).record(volume.lossesSurvived)
        }

        let rebuild = HealingTotals(healing.repairJobs)
        Gauge(label: "radonfs_rebuild_groups", dimensions: [("state", "total")]).record(rebuild.jobs)
        Gauge(label: "radonfs_rebuild_groups", dimensions: [("state", "finished")]).record(rebuild.finished)
        Gauge(label: "radonfs_rebuild_groups", dimensions: [("state", "failed")]).record(rebuild.failed)
        Gauge(label: "radonfs_rebuild_bytes").record(Double(rebuild.bytesWritten))
        Gauge(label: "radonfs_rebuild_rate_bytes_per_second").record(rebuild.rate(now: healing.now))
        // -1 while no group has finished yet (no pace to go by).
        Gauge(label: "radonfs_rebuild_eta_seconds").record(rebuild.remainingSeconds(now: healing.now) ?? -1)
        Gauge(label: "radonfs_rebuild_fragments_found").record(Double(rebuild.found))
        Gauge(label: "radonfs_rebuild_fragments_fixed").record(Double(rebuild.fixed))

        let scrub = HealingTotals(healing.scrubJobs)
        Gauge(label: "radonfs_scrub_groups", dimensions: [("state", "total")]).record(scrub.jobs)
        Gauge(label: "radonfs_scrub_groups", dimensions: [("state", "finished")]).record(scrub.finished)
        Gauge(label: "radonfs_scrub_bytes_read").record(Double(scrub.bytesRead))
        Gauge(label: "radonfs_scrub_fragments_found").record(Double(scrub.found))
        Gauge(label: "radonfs_scrub_fragments_fixed").record(Double(scrub.fixed))
        Gauge(label: "radonfs_scrub_blocks_unrecoverable").record(Double(scrub.unrecoverable))
        Gauge(label: "radonfs_healing_repairs_pending").record(Double(healing.pendingRepairs))
    }
}
