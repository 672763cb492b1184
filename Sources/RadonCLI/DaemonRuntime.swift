#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// What every daemon subcommand shares: structured logs on stderr at the chosen level, a
/// Prometheus `/metrics` endpoint (on unless `--no-metrics`), and a service group that shuts
/// down gracefully on SIGTERM or SIGINT (each service closes its listener and lets requests in
/// flight finish).
enum DaemonRuntime {
    /// Runs the services `makeServices` builds (with the daemon's logger) until a signal.
    /// - Parameters:
    ///   - name: the daemon's name, the logger label is `radonfs.<name>`.
    ///   - metrics: where its Prometheus `/metrics` endpoint listens, if anywhere.
    static func run(
        name: String, logLevel: Logger.Level, metrics: MetricsOptions,
        services makeServices: (Logger) async throws -> [any Service]
    ) async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "radonfs.\(name)")
        let registry = metrics.bootstrap()
        var services = try await makeServices(logger)
        services += try await metrics.services(registry: registry, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        logger.notice("\(name) stopped")
    }

    /// Writes `text` to `path` through a temporary file and a rename, so a launcher polling for
    /// the file (`--port-file`) never reads half of it.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(temporary): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            throw CLIError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Parses `--log-level`, with the message a user needs when it is wrong.
    static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else {
            throw CLIError("unknown log level \"\(text)\": use trace, debug, info, notice, warning, error or critical")
        }
        return level
    }
}
