import Foundation
import Logging
import RadonMeta
import RadonWire

/// Makes what one term of an active metadata server needs: the store, opened afresh, and the
/// service, healing coordinator and deletion sweeper over it.
///
/// A term begins when a server becomes active (at once for a lone server, at each takeover for
/// one of an active/standby group) and ends when it is deposed or stops; nothing in memory
/// (sessions, locks, data tokens, cached rows) passes from one term to the next, so a standby
/// that takes over never acts on what it saw before another server wrote.
struct MetaTermFactory: Sendable {
    /// An SQLite file, or a `postgres://` URL.
    var database: String
    var durability: SQLiteEngine.Durability
    var credentials: WireCredentials
    var liveness: LivenessSettings
    var sessionLease: Duration
    /// How long the start of a term keeps retrying a PostgreSQL server that is not reachable.
    var databasePatience: Duration
    var healing: HealingSettings
    /// What `status` answers name as this server.
    var advertisedAddress: AdvertisedAddress
    var logger: Logger

    /// Opens a term; `epoch` is the leadership epoch the store must fence its writes with.
    func open(epoch: Int64?) async throws -> ActiveTerm {
        let store: SQLMetadataStore
        // Clients of an existing database get a lease to assert their open files before orphans
        // are freed: always after a takeover, and on PostgreSQL, which outlives any one server.
        let restarted: Bool
        if PostgresDatabaseURL.isPostgres(database) {
            do {
                store = SQLMetadataStore(engine: try await PostgresEngine.connect(url: database, logger: logger, patience: databasePatience))
            } catch {
                throw CLIError("cannot open the PostgreSQL metadata database: \(error)")
            }
            restarted = true
        } else {
            restarted = epoch != nil || FileManager.default.fileExists(atPath: database)
            do {
                store = try SQLMetadataStore(path: database, durability: durability)
            } catch {
                throw CLIError("cannot open the metadata database \(database): \(error)")
            }
        }
        // Every write batch of this term checks that the leader's epoch is still `epoch` (PostgreSQL).
        store.setFencingEpoch(epoch)
        let healer = try HealingCoordinator(store: store, logger: logger, settings: healing)
        let pool = WireConnectionPool(credentials: credentials)
        let deletions = PendingDeletionSweeper(store: store, pool: pool, logger: logger)
        let service = MetaService(store: store, logger: logger, liveness: liveness,
                                  onTransition: { await healer.nodeChanged($0) },
                                  sessionLease: sessionLease, deletions: deletions, restarted: restarted,
                                  advertisedAddress: advertisedAddress)
        return ActiveTerm(
            epoch: epoch,
            handle: { request in
                await (HealingCoordinator.handles(request.opcode) ? healer.handle(request) : service.handle(request))
            },
            background: {
                async let liveness: Void = service.runLivenessSweeps()
                async let healing: Void = healer.runMaintenance()
                async let sessions: Void = service.runSessionSweeps()
                async let deleting: Void = deletions.run()
                async let trimming: Void = service.runOperationLogTrims()
                async let expiring: Void = service.runTrashExpiry()
                _ = await (liveness, healing, sessions, deleting, trimming, expiring)
            },
            close: {
                await pool.closeAll()
                await store.engine.shutdown()
            })
    }
}
