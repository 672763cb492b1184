import Logging
import Synchronization

/// The client core: the whole file system over the metadata service and the storage nodes.
///
/// Namespace operations go to the metadata service (which checks permissions against the
/// caller); file data goes through `OpenFile` (write gathering, read-ahead) and `BlockStore`
/// (encode, fan out, vote, decode). The FUSE mount and the CLI file verbs both use this one
/// type, through `FileSystemOperations`. Every method is safe to call from any thread at once.
public final class RadonFileSystemClient: FileSystemOperations {
    let metaService: PooledMetaService
    let pool: WireConnectionPool
    let store: BlockStore
    /// The network paths of multi-path storage nodes, learnt from the group maps.
    let router: MultipathRouter
    let cache: BlockCache
    /// Memory all open files may hold in written, unsent blocks (see `WriteBufferBudget`).
    let writeBudget: WriteBufferBudget
    let logger: Logger
    /// How long attributes from the service are trusted without asking again.
    let attributeLifetime: Duration
    /// The lease this client's open files, data tokens and locks hang on.
    let session: ClientSession
    /// The locks this client holds, to reclaim under a new session after a service restart.
    let heldLocks = HeldLocks()

    struct CachedAttributes {
        var attributes: InodeAttributes
        var expiry: ContinuousClock.Instant
    }

    struct Handle {
        var file: OpenFile
        var flags: OpenFlags
        /// The session the service counts this handle's open under (its hold on the inode).
        var holdSession: UInt64
    }

    struct State {
        var attributes: [UInt64: CachedAttributes] = [:]
        var openFiles: [UInt64: OpenFile] = [:]
        /// Handles open on each file of `openFiles`; the release that takes it to zero closes it.
        var openHandleCounts: [UInt64: Int] = [:]
        var handles: [UInt64: Handle] = [:]
        var nextHandle: UInt64 = 1
        var groupMaps: [UInt32: GroupMap] = [:]
        /// The map epoch whose node paths the router has, per volume (see `learnPaths`).
        var pathEpochs: [UInt32: UInt64] = [:]
        /// Renews the session in the background (started on first use of the session).
        var sessionKeeper: Task<Void, Never>?
        /// The directories this client is scanning name by name, and what it was sent ahead.
        var lookahead: DirectoryLookahead
    }

    /// Caches, open files and handles; guarded by the mutex (never held across an await).
    let state: Mutex<State>

    /// - Parameters:
    ///   - transport: how fragments reach the nodes; nil for the wire (`StorageFragmentTransport`).
    ///     Tests wrap the real one to hold answers back and force interleavings.
    ///   - hedgeDelay: how long the first k nodes get on a read before the others are asked too.
    ///   - metaTimeout: how long metadata calls ride through an outage of every metadata server.
    init(metaAddresses: [WireAddress], pool: WireConnectionPool, repairs: (any RepairReporter)?, logger: Logger,
         blockCacheCapacity: Int = 64 << 20, writeBufferCapacity: Int = 256 << 20, writeBackDelay: Duration = .seconds(30), attributeLifetime: Duration = .seconds(1),
         transport: (any FragmentTransport)? = nil, hedgeDelay: Duration = .seconds(2), metaTimeout: Duration = .seconds(60)) {
        self.metaService = PooledMetaService(addresses: metaAddresses, pool: pool, rideThrough: metaTimeout, logger: logger)
        self.pool = pool
        self.logger = logger
        self.cache = BlockCache(capacity: blockCacheCapacity)
        self.writeBudget = WriteBufferBudget(capacity: writeBufferCapacity, writeBackDelay: writeBackDelay)
        self.attributeLifetime = attributeLifetime
        self.state = Mutex(State(lookahead: DirectoryLookahead(lifetime: attributeLifetime)))
        self.session = ClientSession(meta: metaService, clientName: Self.clientName)
        let router = MultipathRouter(pool: pool, logger: logger)
        self.router = router
        self.store = BlockStore(transport: transport ?? StorageFragmentTransport(pool: pool, router: router), clock: VersionClock(),
                                repairs: repairs ?? MetaRepairReporter(meta: metaService, logger: logger), logger: logger,
                                hedgeDelay: hedgeDelay)
        store.membership.setSource { [metaService, weak self] inode in
            let layout = try await metaService.fileLayout(of: inode)
            await self?.learnPaths(for: layout)
            return layout
        }
    }

    /// Connects to the metadata service at `meta` with `credentials` and checks that it
    /// answers; storage nodes are reached on demand, as files need them.
    public static func connect(meta address: WireAddress, credentials: WireCredentials, logger: Logger,
                               writeBackDelay: Duration = .seconds(30)) async throws -> RadonFileSystemClient {
        try await connect(meta: [address], credentials: credentials, logger: logger, writeBackDelay: writeBackDelay)
    }

    /// Connects to the metadata servers `addresses` (tried in turn: one is active) and checks
    /// that one answers, waiting up to `metaTimeout` as every later call does.
    public static func connect(meta addresses: [WireAddress], credentials: WireCredentials, logger: Logger,
                               writeBackDelay: Duration = .seconds(30), metaTimeout: Duration = .seconds(60)) async throws -> RadonFileSystemClient {
        let pool = WireConnectionPool(credentials: credentials)
        let client = RadonFileSystemClient(metaAddresses: addresses, pool: pool, repairs: nil, logger: logger,
                                           writeBackDelay: writeBackDelay, metaTimeout: metaTimeout)
        do {
            // The export's root, not inode 1: a client exported a subtree may not see the root.
            _ = try await client.meta().exportRoot()
        } catch {
            await pool.closeAll()
            let list = addresses.map(\.description).joined(separator: ",")
            throw FileSystemError.io("cannot reach the metadata service at \(list): \(error)")
        }
        return client
    }

    /// Flushes nothing (call `release` on handles first), ends the session (so the service
    /// releases what it held at once) and closes every connection.
    public func close() async {
        state.withLock { $0.sessionKeeper?.cancel() }
        await session.close()
        await pool.closeAll()
    }

    /// The metadata service on the pooled connection (reconnecting if it dropped).
    func meta() async throws -> MetaClient {
        try await metaService.client()
    }

    // MARK: Attribute cache

    func cachedAttributes(_ inode: UInt64) -> InodeAttributes? {
        state.withLock { state in
            guard let entry = state.attributes[inode], entry.expiry > .now else { return nil }
            return entry.attributes
        }
    }

    /// Remembers `attributes` and, if another client changed the file's size, has the open
    /// file drop what it cached.
    @discardableResult
    func remember(_ attributes: InodeAttributes) -> InodeAttributes {
        let expiry = ContinuousClock.now + attributeLifetime
        state.withLock { $0.attributes[attributes.inode] = CachedAttributes(attributes: attributes, expiry: expiry) }
        return attributes
    }

    /// Forgets what this client knows of inodes it changed, lookahead windows included: every
    /// change a client makes comes through here, `forgetName` or `forgetAll` (see
    /// `DirectoryLookahead`).
    func forgetAttributes(_ inodes: UInt64...) {
        state.withLock { state in
            for inode in inodes {
                state.attributes[inode] = nil
                state.lookahead.forget(inode: inode)
            }
        }
    }

    /// This client added, removed or replaced `name` in `parent`, which changed too.
    func forgetName(_ name: FileName, in parent: UInt64) {
        state.withLock { state in
            state.lookahead.forget(name, in: parent)
            state.lookahead.forget(inode: parent)
        }
    }

    /// Some inode's links changed, which one is not known without a lookup: every cached
    /// attribute and lookahead window goes (they are cheap to fetch again).
    func forgetAll() {
        state.withLock { state in
            state.attributes.removeAll()
            state.lookahead.forgetAll()
        }
    }

    func openFile(_ inode: UInt64) -> OpenFile? {
        state.withLock { $0.openFiles[inode] }
    }

    /// The attributes with this client's unflushed writes (or a flush of its own that the
    /// attributes predate) taken into account.
    func withLocalSize(_ attributes: InodeAttributes) async -> InodeAttributes {
        guard attributes.kind == .regular, let file = openFile(attributes.inode) else { return attributes }
        var attributes = attributes
        if let local = await file.localSize(over: attributes) { attributes.size = local }
        return attributes
    }
}

extension RequestContext {
    var caller: MetaCaller { MetaCaller(uid: uid, gid: gid, groups: groups) }
}
