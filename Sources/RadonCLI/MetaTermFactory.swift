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
    var durability: SQLiteMetadataStore.Durability
    var key: ClusterKey
    var liveness: LivenessSettings
    var sessionLease: Duration
    var healing: HealingSettings
    var logger: Logger

    /// Opens a term; `epoch` is the leadership epoch the store must fence its writes with.
    func open(epoch: Int64?) async throws -> ActiveTerm {
        // Merge point of the PostgreSQL engine: open the PostgreSQL store for `database` here and
        // call `store.setFencingEpoch(epoch)` before the term serves.
        if PostgresDatabaseURL.isPostgres(database) {
            throw CLIError("this build has no PostgreSQL metadata store; keep the namespace in an SQLite --db and elect through --lease-db \(database)")
        }
        let store: SQLiteMetadataStore
        do {
            store = try SQLiteMetadataStore(path: database, durability: durability)
        } catch {
            throw CLIError("cannot open the metadata database \(database): \(error)")
        }
        let healer = try HealingCoordinator(store: store, logger: logger, settings: healing)
        let pool = WireConnectionPool(key: key)
        let deletions = PendingDeletionSweeper(store: store, pool: pool, logger: logger)
        let service = MetaService(store: store, logger: logger, liveness: liveness,
                                  onTransition: { await healer.nodeChanged($0) },
                                  sessionLease: sessionLease, deletions: deletions)
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
                _ = await (liveness, healing, sessions, deleting)
            },
            close: { await pool.closeAll() })
    }
}
