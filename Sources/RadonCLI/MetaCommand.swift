import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RadonExporter
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
            With a PostgreSQL --db (or --lease-db) several servers form an active/standby group: \
            the active one is elected through a lease row in PostgreSQL and fences its writes with \
            the lease's epoch; the others answer notActive and take over within about --lease \
            seconds of its death. \
            Every connection is mutual TLS 1.3 with a certificate of the cluster CA (--tls-dir, \
            --identity; `radonfs cert issue`), and each request is checked against the role in \
            the caller's certificate; --insecure --key-file is plaintext with the shared key. \
            A web console (--console-listen, 127.0.0.1 by default) shows the nodes, volumes, \
            placement groups, healing progress and recent events; with --console-admin-token-file \
            an admin may start a rebuild or scrub and remove a node from it. Storage nodes that miss heartbeats for --down-after seconds are marked \
            down, after --lost-after seconds lost. SIGTERM or SIGINT stops it cleanly.
            """
    )

    @Option(name: .long, help: ArgumentHelp("""
        The SQLite database file (created with its directory if missing), or a PostgreSQL database as \
        postgres://user[:password]@host[:port][,host2[:port2]...]/dbname: every host of a replicated \
        database, of which the primary (not in recovery) is used. Its schema is created or migrated \
        on start; a server not reachable yet is retried for --db-wait seconds.
        """, valueName: "path|url"))
    var db: String

    @Option(name: .customLong("db-wait"), help: ArgumentHelp("Seconds to keep retrying a PostgreSQL server that is not reachable when a term starts.", valueName: "seconds"))
    var dbWait: Double = 30

    @Option(name: .customLong("lease-db"), help: ArgumentHelp("Elect the active metadata server through this PostgreSQL database (default: --db when it is PostgreSQL). Every server of one group names the same database; one is active, the others stand by and answer notActive.", valueName: "url"))
    var leaseDb: String?

    @Option(name: .long, help: ArgumentHelp("Seconds the active server's lease lasts unrenewed (renewed every fifth of it, at most every second): a standby takes over about this long after the active one dies.", valueName: "seconds"))
    var lease: Double = MetaHealingOptions.environment("RADONFS_META_LEASE", 5)

    @Option(name: .long, help: ArgumentHelp("Where to listen, host:port (port 0 picks a free one).", valueName: "host:port"))
    var listen: String = "127.0.0.1:7400"

    @Option(name: .long, help: ArgumentHelp("""
        The address others should use for this server, when it differs from --listen (say --listen \
        0.0.0.0:7400): named in the leader lease, the logs, the port file and `status`. Default: the \
        --listen address, with this machine's host name in place of a wildcard host (0.0.0.0 or ::).
        """, valueName: "host:port"))
    var advertise: String?

    @OptionGroup(title: "Security") var security: WireSecurityOptions

    @Option(name: .customLong("down-after"), help: ArgumentHelp("Seconds without a heartbeat before a storage node is down.", valueName: "seconds"))
    var downAfter: Double = MetaHealingOptions.environment("RADONFS_DOWN_AFTER", 6)

    @Option(name: .customLong("lost-after"), help: ArgumentHelp("Seconds without a heartbeat before a storage node is lost (its data is rebuilt elsewhere).", valueName: "seconds"))
    var lostAfter: Double = MetaHealingOptions.environment("RADONFS_LOST_AFTER", 300)

    @Option(name: .customLong("session-lease"), help: ArgumentHelp("Seconds a client session lives without renewal: a client that died (SIGKILL, cut link) loses its locks, data tokens and open files after this long.", valueName: "seconds"))
    var sessionLease: Double = MetaHealingOptions.environment("RADONFS_SESSION_LEASE", 20)

    @Option(name: .customLong("port-file"), help: ArgumentHelp("Write host:port here once listening (for port 0).", valueName: "path"))
    var portFile: String?

    @OptionGroup var metrics: MetricsOptions

    @OptionGroup(title: "Web console") var console: ConsoleOptions

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
        guard security.isGiven else { throw ValidationError("give --tls-dir and --identity (mutual TLS), or --insecure --key-file") }
        guard WireAddress(listen) != nil else { throw ValidationError("--listen must be host:port, got \"\(listen)\"") }
        if let advertise {
            guard let address = WireAddress(advertise), address.port != 0, !WireAddress.isWildcard(host: address.host) else {
                throw ValidationError("--advertise must be a reachable host:port (not port 0, not 0.0.0.0 or ::), got \"\(advertise)\"")
            }
        }
        if PostgresDatabaseURL.isPostgres(db), PostgresDatabaseURL(db) == nil { throw ValidationError("--db is not a valid postgres:// URL: \(db)") }
        if let leaseDb, PostgresDatabaseURL(leaseDb) == nil { throw ValidationError("--lease-db must be a postgres:// URL, got \(leaseDb)") }
        if let leaseDb, let store = PostgresDatabaseURL(db), PostgresDatabaseURL(leaseDb) != store {
            // The store fences its writes with the epoch in its own database's meta_leader row.
            throw ValidationError("with a PostgreSQL --db the servers elect through that database; leave --lease-db out")
        }
        guard lease >= 1 else { throw ValidationError("--lease must be at least 1 second") }
        guard dbWait >= 0 else { throw ValidationError("--db-wait must be at least 0") }
        guard SQLiteEngine.Durability(rawValue: durability) != nil else { throw ValidationError("--durability is full or normal") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
        guard sessionLease >= 1 else { throw ValidationError("--session-lease must be at least 1 second") }
        guard downAfter > 0, lostAfter >= downAfter else {
            throw ValidationError("need 0 < --down-after <= --lost-after, got \(downAfter) and \(lostAfter)")
        }
    }

    /// Where the active server is elected: --lease-db, else --db when it is PostgreSQL; nil for a
    /// lone server (SQLite without --lease-db), which is active from the start.
    var leaseDatabaseURL: PostgresDatabaseURL? {
        leaseDb.flatMap { PostgresDatabaseURL($0) } ?? PostgresDatabaseURL(db)
    }

    func run() async throws {
        PrivateState.restrictNewFiles()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "radonfs.meta")
        guard let address = WireAddress(listen) else { throw ValidationError("bad --listen") }
        let credentials = try security.credentials()
        let registry = metrics.bootstrap()

        let advertisedAddress = AdvertisedAddress()
        let factory = MetaTermFactory(
            database: db, durability: SQLiteEngine.Durability(rawValue: durability) ?? .full, credentials: credentials,
            liveness: LivenessSettings(downAfter: downAfter, lostAfter: lostAfter),
            sessionLease: .milliseconds(Int64(sessionLease * 1000)), databasePatience: .milliseconds(Int64(dbWait * 1000)),
            healing: healing.settings, advertisedAddress: advertisedAddress, logger: logger)
        if !PostgresDatabaseURL.isPostgres(db) {
            // The database names every file: private, also when an older version left it 0644.
            let directory = (db as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? PrivateState.makeDirectory(directory) }
            for path in [db, db + "-wal", db + "-shm"] { PrivateState.tighten(path) }
        }
        if PostgresDatabaseURL.isPostgres(db) {
            // Reach the database (and bring its schema up to date) once before serving: a wrong
            // or unreachable --db is a clear error at start, not a standby campaigning forever.
            do {
                let engine = try await PostgresEngine.connect(url: db, logger: logger, patience: .milliseconds(Int64(dbWait * 1000)))
                await engine.shutdown()
            } catch {
                throw CLIError("cannot open the PostgreSQL metadata database: \(error)")
            }
        }
        let role = MetaServerRole(logger: logger) { epoch in try await factory.open(epoch: epoch) }
        let electionDatabase = leaseDatabaseURL
        // A lone server opens its store before it listens, as it always did: a bad --db fails at once.
        if electionDatabase == nil { try await role.activateAlone() }
        let server: WireServer
        do {
            server = try await WireServer.start(host: address.host, port: address.port, credentials: credentials, access: MetaOpcode.access, logger: logger) { request in
                await role.handle(request)
            }
        } catch {
            throw CLIError("cannot listen on \(listen): \(error)")
        }
        // Who this server is to everyone else: never 0.0.0.0, which no peer can reach.
        let advertised = advertise.flatMap(WireAddress.init) ?? server.localAddress.advertised(hostName: ProcessInfo.processInfo.hostName)
        advertisedAddress.set(advertised.description)
        let leadership = electionDatabase.map {
            MetaLeadership(url: $0, holder: "\(advertised) pid \(getpid())",
                           settings: LeadershipSettings(lease: .milliseconds(Int64(lease * 1000))), logger: logger)
        }
        logger.notice("metadata service listening", metadata: [
            "address": "\(advertised)", "listen": "\(server.localAddress)", "db": "\(PostgresDatabaseURL(db)?.description ?? db)",
            "durability": "\(PostgresDatabaseURL.isPostgres(db) ? "postgresql" : durability)",
            "election": "\(leadership.map { "\($0.url), lease \(lease) s" } ?? "none (one server)")",
        ])

        var services: [any Service] = [MetaWireService(server: server, logger: logger), MetaRoleService(role: role, leadership: leadership)]
        // The cluster's gauges, from this server's own answers (a standby's say it is one),
        // refreshed when scraped.
        let ownMeta = MetaClient(transport: InProcessMetaTransport { request in await role.handle(request) })
        let exporter = ClusterMetricsExporter(meta: ownMeta, logger: logger)
        services += try await metrics.services(registry: registry, logger: logger, beforeScrape: { await exporter.refresh() })
        services += try console.services(meta: ownMeta, linkHost: advertised.host, logger: logger)
        if let portFile { services.append(PortFileService(path: portFile, address: advertised.description)) }

        let group = ServiceGroup(configuration: .init(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        logger.notice("metadata service stopped")
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

/// Leadership, or the lone server's one term, until graceful shutdown; then the term ends
/// (a leader gives its lease up, so a standby takes over at once).
struct MetaRoleService: Service {
    let role: MetaServerRole
    let leadership: MetaLeadership?

    func run() async throws {
        if let leadership {
            await cancelWhenGracefulShutdown { await leadership.run(role) }
        } else {
            try? await gracefulShutdown()
        }
        await role.stop()
    }
}
