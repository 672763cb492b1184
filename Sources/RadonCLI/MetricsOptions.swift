import ArgumentParser
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The metrics options every daemon (metadata, storage, mount) shares. Metrics are on by
/// default, on a port the system picks, at `http://127.0.0.1:<port>/metrics`, so an operator
/// finds them with `radonfs up` and `status` without having asked for them.
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus metrics at http://127.0.0.1:N/metrics (0, the default, picks a free port, logged).", valueName: "N"))
    var port: Int = 0

    @Flag(name: .customLong("no-metrics"), help: "Serve no metrics (also RADONFS_NO_METRICS=1 in the environment, as for every process `up` starts).")
    var noMetrics = false

    /// `--no-metrics`, or RADONFS_NO_METRICS=1: how `bench fs` measures what metrics cost.
    var disabled: Bool { noMetrics || Self.disabledByEnvironment }

    /// RADONFS_NO_METRICS=1: every process started from this environment serves none.
    static var disabledByEnvironment: Bool { MetaHealingOptions.environment("RADONFS_NO_METRICS", 0) != 0 }

    @Option(name: .customLong("metrics-port-file"), help: ArgumentHelp("Write the metrics endpoint's host:port here once it listens (for launchers).", valueName: "path"))
    var portFile: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--metrics-port must be 0...65535, got \(port)") }
    }

    /// The registry every instrument of the process reports to, made the metrics system's
    /// backend (once per process); nil when metrics are off, and the instruments are no-ops.
    func bootstrap() -> PrometheusCollectorRegistry? {
        guard !disabled else { return nil }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DocumentedMetricsFactory(registry: registry))
        return registry
    }

    /// For a process without a service group (the mount): binds the endpoint and writes
    /// `--metrics-port-file` now; the caller closes the endpoint's channel when it ends.
    func startEndpoint(registry: PrometheusCollectorRegistry?, logger: Logger) async throws -> DaemonMetricsEndpoint? {
        guard let registry else { return nil }
        let endpoint = try await DaemonMetricsEndpoint.start(port: port, registry: registry, logger: logger)
        if let portFile { try DaemonRuntime.writeAtomically("127.0.0.1:\(endpoint.port)", to: portFile) }
        return endpoint
    }

    /// These options as arguments, for a process that starts another with the same ones.
    var arguments: [String] {
        (disabled ? ["--no-metrics"] : ["--metrics-port", "\(port)"]) + (portFile.map { ["--metrics-port-file", $0] } ?? [])
    }

    /// The endpoint serving `registry` (running `beforeScrape` before each answer), and the
    /// service writing its address to `--metrics-port-file`.
    func services(
        registry: PrometheusCollectorRegistry?, logger: Logger, beforeScrape: (@Sendable () async -> Void)? = nil
    ) async throws -> [any Service] {
        guard let registry else { return [] }
        let endpoint = try await DaemonMetricsEndpoint.start(port: port, registry: registry, logger: logger, beforeScrape: beforeScrape)
        return [endpoint] + (portFile.map { [PortFileService(path: $0, address: "127.0.0.1:\(endpoint.port)")] } ?? [])
    }
}
