import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RadonMeta
import RadonWire
import ServiceLifecycle

/// `radonfs meta [serve]`: the metadata service daemon (the default subcommand of `MetaCommand`).
struct MetaServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the metadata service: namespace, volumes, placement groups and the storage node registry.",
        discussion: """
            Keeps everything in one SQLite database (WAL, fsync on every commit), or in PostgreSQL \
            when --db is a postgres:// URL: a change is acknowledged only once it is committed \
            durably, so the service may be killed at any instant. \
            Every connection must authenticate with the cluster key (--key-file, 32 bytes made by \
            `radonfs up`). Storage nodes that miss heartbeats for --down-after seconds are marked \
            down, after --lost-after seconds lost. SIGTERM or SIGINT stops it cleanly.
            """
    )

    @Option(name: .long, help: ArgumentHelp("""
        The SQLite database file (created with its directory if missing), or a PostgreSQL database as \
        postgres://user[:password]@host:port/dbname (its schema is created or migrated on start; a server \
        not reachable yet is retried for --db-wait seconds).
        """, valueName: "path|url"))
    var db: String

    @Option(name: .customLong("db-wait"), help: ArgumentHelp("Seconds to keep retrying a PostgreSQL server that is not reachable at start.", valueName: "seconds"))
    var dbWait: Double = 30

    @Option(name: .long, help: ArgumentHelp("Where to listen, host:port (port 0 picks a free one).", valueName: "host:port"))
    var listen: String = "127.0.0.1:7400"

    @Option(name: .customLong("key-file"), help: ArgumentHelp("The cluster key file.", valueName: "path"))
    var keyFile: String

    @Option(name: .customLong("down-after"), help: ArgumentHelp("Seconds without a heartbeat before a storage node is down.", valueName: "seconds"))
    var downAfter: Double = MetaHealingOptions.environment("RADONFS_DOWN_AFTER", 6)

    @Option(name: .customLong("lost-after"), help: ArgumentHelp("Seconds without a heartbeat before a storage node is lost (its data is rebuilt elsewhere).", valueName: "seconds"))
    var lostAfter: Double = MetaHealingOptions.environment("RADONFS_LOST_AFTER", 300)

    @Option(name: .customLong("session-lease"), help: ArgumentHelp("Seconds a client session lives without renewal: a client that died (SIGKILL, cut link) loses its locks, data tokens and open files after this long.", valueName: "seconds"))
    var sessionLease: Double = MetaHealingOptions.environment("RADONFS_SESSION_LEASE", 20)

    @Option(name: .customLong("port-file"), help: ArgumentHelp("Write host:port here once listening (for port 0).", valueName: "path"))
    var portFile: String?

    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus metrics at http://127.0.0.1:N/metrics (0 picks a port, logged).", valueName: "N"))
    var metricsPort: Int?

    @Option(name: .long, help: ArgumentHelp("""
        full: fsync every commit (nothing acknowledged is lost, even to a power cut); normal: no fsync per \
        commit (nothing acknowledged is lost when the service dies, SIGKILL included, but an OS crash may \
        lose the last commits; much faster small-file creates on slow-fsync disks).
        """, valueName: "full|normal"))
    var durability: String = "full"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Healing") var healing: MetaHealingOptions

    func validate() throws {
        guard WireAddress(listen) != nil else { throw ValidationError("--listen must be host:port, got \"\(listen)\"") }
        guard SQLiteEngine.Durability(rawValue: durability) != nil else { throw ValidationError("--durability is full or normal") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard dbWait >= 0 else { throw ValidationError("--db-wait must be at least 0") }
        guard sessionLease >= 1 else { throw ValidationError("--session-lease must be at least 1 second") }
        guard downAfter > 0, lostAfter >= downAfter else {
            throw ValidationError("need 0 < --down-after <= --lost-after, got \(downAfter) and \(lostAfter)")
        }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0...65535") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "radonfs.meta")
        guard let address = WireAddress(listen) else { throw ValidationError("bad --listen") }
        let key: ClusterKey
        do {
            key = try ClusterKey(contentsOf: keyFile)
        } catch {
            throw CLIError("cannot read the cluster key from \(keyFile): \(error)")
        }
        let registry = PrometheusCollectorRegistry()
        if metricsPort != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }

        // A database that exists already had clients: they get a lease to assert their open
        // files. A PostgreSQL database is taken to have had them (it outlives any one server).
        let restarted = PostgresEngine.isURL(db) || FileManager.default.fileExists(atPath: db)
        let store = try await openStore(logger: logger)
        let healer = try HealingCoordinator(store: store, logger: logger, settings: healing.settings)
        let deletions = PendingDeletionSweeper(store: store, pool: WireConnectionPool(key: key), logger: logger)
        let service = MetaService(store: store, logger: logger, liveness: LivenessSettings(downAfter: downAfter, lostAfter: lostAfter),
                                  onTransition: { await healer.nodeChanged($0) },
                                  sessionLease: .milliseconds(Int64(sessionLease * 1000)), deletions: deletions,
                                  restarted: restarted)
        let server: WireServer
        do {
            server = try await WireServer.start(host: address.host, port: address.port, key: key, logger: logger) { request in
                await (HealingCoordinator.handles(request.opcode) ? healer.handle(request) : service.handle(request))
            }
        } catch {
            throw CLIError("cannot listen on \(listen): \(error)")
        }
        logger.notice("metadata service listening", metadata: [
            "address": "\(server.localAddress)", "db": "\(store.postgresEngine?.description ?? db)",
            "durability": "\(PostgresEngine.isURL(db) ? "postgresql" : durability)",
        ])

        var services: [any Service] = [MetaWireService(server: server, logger: logger), LivenessSweepService(service: service),
                                      HealingMaintenanceService(coordinator: healer), SessionSweepService(service: service, deletions: deletions)]
        if let metricsPort {
            services.append(try await DaemonMetricsEndpoint.start(port: metricsPort, registry: registry, logger: logger))
        }
        if let portFile { services.append(PortFileService(path: portFile, address: server.localAddress.description)) }

        let group = ServiceGroup(configuration: .init(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        await store.engine.shutdown()
        logger.notice("metadata service stopped")
    }

    /// The store on the engine `--db` names: PostgreSQL for a postgres:// URL, else SQLite.
    func openStore(logger: Logger) async throws -> SQLMetadataStore {
        if PostgresEngine.isURL(db) {
            do {
                return SQLMetadataStore(engine: try await PostgresEngine.connect(
                    url: db, logger: logger, patience: .milliseconds(Int64(dbWait * 1000))))
            } catch {
                throw CLIError("cannot open the PostgreSQL metadata database: \(error)")
            }
        }
        do {
            let directory = (db as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            return try SQLMetadataStore(path: db, durability: SQLiteEngine.Durability(rawValue: durability) ?? .full)
        } catch {
            throw CLIError("cannot open the metadata database \(db): \(error)")
        }
    }
}

/// The wire server as a lifecycle service: serves until graceful shutdown, then closes.
struct MetaWireService: Service {
    let server: WireServer
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("closing the wire server")
        try await server.close()
    }
}

/// The session, orphan, pending-deletion and operation-log sweeps, cancelled on graceful shutdown.
struct SessionSweepService: Service {
    let service: MetaService
    let deletions: PendingDeletionSweeper

    func run() async throws {
        await cancelWhenGracefulShutdown {
            async let sessions: Void = service.runSessionSweeps()
            async let deleting: Void = deletions.run()
            async let trimming: Void = service.runOperationLogTrims()
            _ = await (sessions, deleting, trimming)
        }
    }
}

/// The liveness sweep, cancelled on graceful shutdown.
struct LivenessSweepService: Service {
    let service: MetaService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await service.runLivenessSweeps()
        }
    }
}
