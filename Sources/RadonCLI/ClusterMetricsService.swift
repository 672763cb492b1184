import RadonExporter
import ServiceLifecycle

/// Refreshes the cluster gauges (`ClusterMetricsExporter`) in the metadata service's process,
/// until graceful shutdown.
struct ClusterMetricsService: Service {
    let exporter: ClusterMetricsExporter

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await exporter.run()
        }
    }
}
