import CoreMetrics
import Prometheus

/// The metrics backend of every RadonFS process: swift-prometheus, with a `# HELP` line for
/// each metric (`MetricHelp`). `PrometheusMetricsFactory` registers every instrument made
/// through the swift-metrics API without one, which `promtool check metrics` reports.
///
/// Buckets and the destruction of instruments are the wrapped factory's.
struct DocumentedMetricsFactory: MetricsFactory {
    let prometheus: PrometheusMetricsFactory
    var registry: PrometheusCollectorRegistry { prometheus.registry }

    init(registry: PrometheusCollectorRegistry) {
        prometheus = PrometheusMetricsFactory(registry: registry)
    }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricHelp.text(for: label))
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: descriptor(label), labels: dimensions,
            buckets: prometheus.valueHistogramBuckets[label] ?? prometheus.defaultValueHistogramBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: descriptor(label), labels: dimensions,
            buckets: prometheus.durationHistogramBuckets[label] ?? prometheus.defaultDurationHistogramBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}

/// What each metric of RadonFS means, as its `# HELP` line says it.
enum MetricHelp {
    static let texts: [String: String] = [
        // The cluster, from the active metadata server (`ClusterMetricsExporter`).
        "radonfs_meta_active": "1 when this metadata server is the active one, 0 on a standby.",
        "radonfs_cluster_nodes": "Storage nodes by liveness state (up, down, lost).",
        "radonfs_cluster_raw_capacity_bytes": "Capacity of the up storage nodes' file systems, summed.",
        "radonfs_cluster_raw_free_bytes": "Free space on the up storage nodes' file systems, summed.",
        "radonfs_cluster_usable_free_bytes": "Free space for file data in the default volume: raw free times k/n.",
        "radonfs_cluster_groups": "Placement groups by health: healthy (every fragment in place), degraded (readable, fewer losses survived), unavailable (fewer than k fragments reachable).",
        "radonfs_cluster_groups_doubled_up": "Placement groups with two positions on one host (no other host was free when a member failed).",
        "radonfs_volume_losses_survived": "Further node losses every block of the volume survives now (-1: some data unreadable now).",
        "radonfs_rebuild_groups": "Groups of the current (or last) rebuild run by state: total, finished, failed.",
        "radonfs_rebuild_bytes": "Fragment bytes written by the current (or last) rebuild run.",
        "radonfs_rebuild_rate_bytes_per_second": "Fragment bytes rebuilt per second over the current (or last) run.",
        "radonfs_rebuild_eta_seconds": "Seconds the current rebuild still needs at its pace so far (0 when done, -1 before any group finished).",
        "radonfs_rebuild_fragments_found": "Fragments the current (or last) rebuild run found missing, stale or corrupt.",
        "radonfs_rebuild_fragments_fixed": "Fragments the current (or last) rebuild run rewrote.",
        "radonfs_scrub_groups": "Groups of the current (or last) scrub by state: total, finished.",
        "radonfs_scrub_bytes_read": "Fragment bytes read by the current (or last) scrub.",
        "radonfs_scrub_fragments_found": "Fragments the current (or last) scrub found corrupt, missing, stale or disagreeing.",
        "radonfs_scrub_fragments_fixed": "Fragments the current (or last) scrub rewrote.",
        "radonfs_scrub_blocks_unrecoverable": "Blocks the current (or last) scrub found with fewer than k intact fragments.",
        "radonfs_healing_repairs_pending": "Block fragments clients recorded as missed, not repaired yet.",
        // The metadata service's requests.
        "radonfs_meta_requests_total": "Metadata requests answered, by opcode.",
        "radonfs_meta_request_failures_total": "Metadata requests answered with an error, by opcode.",
        "radonfs_meta_request_duration_seconds": "Time to answer a metadata request, by opcode.",
        // Each storage daemon.
        "radonfs_storage_requests_total": "Storage requests answered.",
        "radonfs_storage_request_failures_total": "Storage requests answered with an error.",
        "radonfs_storage_request_duration_seconds": "Time to answer a storage request, by opcode.",
        "radonfs_storage_fragment_bytes_written_total": "Fragment bytes written to disk.",
        "radonfs_storage_fragment_bytes_read_total": "Fragment bytes read from disk.",
        "radonfs_storage_corrupt_slots_total": "Fragment slots found corrupt (CRC mismatch) when read.",
        "radonfs_storage_write_seconds": "Time to write one request's fragments, with their fsync unless the client deferred it to a syncFile request.",
        "radonfs_storage_disk_capacity_bytes": "Capacity of the file system holding the node's fragments.",
        "radonfs_storage_disk_free_bytes": "Free space on the file system holding the node's fragments.",
        "radonfs_storage_fragment_files": "Fragment files the node holds.",
        // Each mount.
        "radonfs_mount_operation_duration_seconds": "Time to answer a FUSE request, by operation.",
        "radonfs_mount_operation_errors_total": "FUSE requests answered with an error, by operation.",
        "radonfs_mount_read_bytes_total": "Bytes read through the mount.",
        "radonfs_mount_written_bytes_total": "Bytes written through the mount.",
        "radonfs_client_block_cache_requests_total": "Block reads of the client by result: hit (served from its cache) or miss.",
        "radonfs_client_meta_retries_total": "Metadata calls sent again (a server down, failing over, or not the active one).",
    ]

    /// The help text of `label`; one naming the metric for a label not in the table yet.
    static func text(for label: String) -> String {
        texts[label] ?? "RadonFS metric \(label)."
    }
}
