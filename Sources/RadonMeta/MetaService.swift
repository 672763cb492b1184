import Logging
import Metrics
import NIOCore
import RadonWire

/// The metadata service: answers every metadata opcode from a `MetadataStore` and watches the
/// storage nodes' heartbeats.
///
/// The handler never throws and never traps on input: a payload that does not decode gets a
/// `badRequest` reply, a POSIX failure its errno, anything else an error status.
public final class MetaService: Sendable {
    public let store: any MetadataStore
    let logger: Logger
    let liveness: LivenessSettings
    /// When this service started: heartbeats are never counted missing from before it.
    let startedAt: Timestamp
    let clock: @Sendable () -> Timestamp
    let instruments: [UInt8: RequestInstruments]
    /// Called for every liveness change the sweep makes (issue 5's rebuild hooks in here).
    let onTransition: @Sendable (NodeStateTransition) async -> Void
    /// The cluster's file locks, held for client sessions.
    public let locks = LockManager()
    /// Client sessions; what a session holds is released when it lapses.
    public let sessions: SessionRegistry
    /// Which session may send each file's blocks.
    public let dataTokens = DataTokenTable()
    /// Deletes the fragments of removed files (nil: clients do it, as in unit tests of the store).
    let deletions: PendingDeletionSweeper?
    /// The identified mutations running now (a retry joins its first attempt).
    let identifiedRequests = IdentifiedRequests()
    /// What each client certificate may mount (`ExportRule`), as last read from the store.
    let exportTable: ExportTable
    /// The inodes known to lie within each exported subtree.
    let subtreeMembership = SubtreeMembership()
    /// Where others reach this server, named in `status` answers.
    let advertisedAddress: AdvertisedAddress

    public init(
        store: any MetadataStore, logger: Logger, liveness: LivenessSettings = LivenessSettings(),
        clock: @escaping @Sendable () -> Timestamp = SQLMetadataStore.systemClock,
        onTransition: @escaping @Sendable (NodeStateTransition) async -> Void = { _ in },
        sessionLease: Duration = .seconds(20), deletions: PendingDeletionSweeper? = nil,
        restarted: Bool = false, advertisedAddress: AdvertisedAddress = AdvertisedAddress()
    ) {
        self.advertisedAddress = advertisedAddress
        self.store = store
        self.logger = logger
        self.liveness = liveness
        self.clock = clock
        self.startedAt = clock()
        self.onTransition = onTransition
        self.sessions = SessionRegistry(lease: sessionLease)
        self.deletions = deletions
        self.exportTable = ExportTable(store: store)
        // After a restart, until the clients of the previous run had one lease to assert their
        // open files again, a file losing its last name is kept as an orphan (the session
        // sweep frees it after).
        if restarted { store.openFiles.assumeOpen(until: .now + sessionLease) }
        var instruments: [UInt8: RequestInstruments] = [:]
        for opcode in MetaOpcode.allCases { instruments[opcode.rawValue] = RequestInstruments(opcode) }
        self.instruments = instruments
    }

    /// The `WireServer` handler.
    public func handle(_ request: WireRequest) async -> WireResponse {
        guard let opcode = MetaOpcode(rawValue: request.opcode) else {
            return .failure(.badRequest, "unknown metadata opcode 0x\(String(request.opcode, radix: 16))")
        }
        if opcode == .identified { return await handleIdentified(request) }
        let started = ContinuousClock.now
        let response: WireResponse
        do {
            let policy = try await exportPolicy(for: request.peer, opcode: opcode)
            response = await ExportPolicy.$current.withValue(policy) { await dispatch(opcode, request) }
        } catch {
            response = .failure(for: error)
        }
        if let instruments = instruments[opcode.rawValue] {
            instruments.record(started.duration(to: .now), failed: response.status != .ok)
        }
        if response.status == .internalError || response.status == .corrupt {
            logger.error("request failed", metadata: ["op": "\(opcode)", "status": "\(response.status)"])
        }
        return response
    }

    /// Decodes the request, runs `body`, encodes its reply; every failure becomes a reply.
    /// A client's export (`ExportPolicy.current`) admits the request first and confines the
    /// reply after.
    func answer<Request: WireMessage, Reply: WireMessage>(
        _ request: WireRequest, _ body: (Request) async throws -> Reply
    ) async -> WireResponse {
        do {
            var decoded = try request.decode(Request.self)
            guard let policy = ExportPolicy.current else { return .ok(try await body(decoded)) }
            decoded = try await policy.admit(decoded)
            return .ok(try await policy.confine(try await body(decoded), answering: decoded))
        } catch {
            return .failure(for: error)
        }
    }

    private func dispatch(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let store = self.store
        switch opcode {
        case .lookup: return await answer(request) { (r: NameRequest) in try await store.lookup(r) }
        case .lookupAhead: return await answer(request) { (r: LookaheadRequest) in try await store.lookup(r) }
        case .getAttributes: return await answer(request) { (r: InodeRequest) in try await store.attributes(of: r.inode) }
        case .setAttributes: return await answer(request) { (r: SetAttributesRequest) in try await store.setAttributes(r) }
        case .create:
            return await answer(request) { (r: CreateRequest) in
                // A session this server does not know (it just took over, or the session lapsed)
                // opens nothing: the create still runs, or is answered from the operation log as
                // a retry must be, and the client opens with `openFile`, which renews its session.
                var request = r
                if let session = r.openSession, await !sessions.isLive(session) { request.openSession = nil }
                var reply = try await store.create(request)
                if request.openSession == nil { reply.open = nil }
                return reply
            }
        case .makeDirectory: return await answer(request) { (r: MakeDirectoryRequest) in try await store.makeDirectory(r) }
        case .makeSymbolicLink: return await answer(request) { (r: MakeSymbolicLinkRequest) in try await store.makeSymbolicLink(r) }
        case .readSymbolicLink: return await answer(request) { (r: InodeRequest) in BytesReply(try await store.readSymbolicLink(r.inode)) }
        case .remove:
            return await answer(request) { (r: NameRequest) in
                try await forgettingMember(named: r.name, in: r.parent) {
                    var reply = try await store.remove(r)
                    reply.removed = deleting(reply.removed)
                    return reply
                }
            }
        case .removeDirectory:
            return await answer(request) { (r: NameRequest) in
                try await forgettingMember(named: r.name, in: r.parent) { try await store.removeDirectory(r) }
                return WireEmpty()
            }
        case .rename:
            return await answer(request) { (r: RenameRequest) in
                try await forgettingMembers(movedBy: r) { RemovalReply(removed: deleting(try await store.rename(r))) }
            }
        case .link: return await answer(request) { (r: LinkRequest) in try await store.link(r) }
        case .readDirectory: return await answer(request) { (r: ReadDirectoryRequest) in DirectoryListing(entries: try await store.readDirectory(r)) }
        case .statistics:
            return await answer(request) { (r: StatisticsRequest) in
                if let inode = r.inode { try await store.statistics(of: inode) } else { try await store.statistics() }
            }
        case .quotaSet: return await answer(request) { (r: QuotaSetRequest) in QuotaListReply(try await store.setQuota(r)) }
        case .quotaList: return await answer(request) { (r: InodeRequest) in QuotaListReply(try await store.quotas(of: r.inode)) }
        case .quotaHeadroom: return await answer(request) { (r: InodeRequest) in QuotaHeadroomReply(bytes: try await store.quotaHeadroom(of: r.inode)) }
        case .getExtendedAttribute: return await answer(request) { (r: ExtendedAttributeRequest) in BytesReply(try await store.extendedAttribute(r)) }
        case .setExtendedAttribute: return await answer(request) { (r: SetExtendedAttributeRequest) in try await store.setExtendedAttribute(r); return WireEmpty() }
        case .listExtendedAttributes: return await answer(request) { (r: InodeRequest) in NameListReply(try await store.extendedAttributeNames(of: r.inode)) }
        case .exportRoot, .addExport, .exports, .removeExport: return await dispatchExport(opcode, request)
        case .fileInventory:
            return await answer(request) { (r: FileInventoryRequest) in
                var page = try await store.fileInventory(after: r.after, limit: Int(r.limit))
                for index in page.entries.indices { page.entries[index].isOpen = store.openFiles.isOpen(page.entries[index].inode) }
                return page
            }
        case .relayoutBegin: return await answer(request) { (r: RelayoutBeginRequest) in try await store.relayoutBegin(r) }
        case .relayoutCommit: return await answer(request) { (r: RelayoutCommitRequest) in try await store.relayoutCommit(r) }
        case .trashList, .trashRestore, .trashPurge, .trashSettings: return await dispatchTrash(opcode, request)
        case .removeExtendedAttribute: return await answer(request) { (r: ExtendedAttributeRequest) in try await store.removeExtendedAttribute(r); return WireEmpty() }
        case .fileLayout: return await answer(request) { (r: InodeRequest) in try await store.fileLayout(of: r.inode) }
        case .updateSizeAfterWrite: return await answer(request) { (r: UpdateSizeRequest) in try await store.updateSizeAfterWrite(r) }
        case .readInline: return await answer(request) { (r: InodeRequest) in try await store.readInline(of: r.inode) }
        case .writeInline: return await answer(request) { (r: WriteInlineRequest) in try await store.writeInline(r) }
        case .clearInline: return await answer(request) { (r: InodeRequest) in try await store.clearInline(of: r.inode) }
        case .pendingDeletions: return await answer(request) { (r: LimitRequest) in RemovedFilesReply(try await store.pendingDeletions(limit: Int(r.limit))) }
        case .confirmDeletions: return await answer(request) { (r: ConfirmDeletionsRequest) in try await store.confirmDeletions(r.inodes); return WireEmpty() }
        case .setLock, .testLock, .releaseLocks, .cancelLockWait: return await dispatchLock(opcode, request)
        case .identified: return await handleIdentified(request)
        case .openSession, .renewSession, .closeSession, .acquireDataToken, .releaseDataToken, .openFile, .closeFile:
            return await dispatchSession(opcode, request)
        case .registerNode:
            return await answer(request) { (r: RegisterNodeRequest) in
                var acknowledgement = try await store.registerNode(r)
                acknowledgement.readOnlyClients = try await exportTable.readOnlyClients()
                logger.info("node registered", metadata: [
                    "node": "\(acknowledgement.nodeID)", "address": "\(r.address)", "host": "\(r.hostID)",
                    "previous-state": "\(acknowledgement.previousState)",
                ])
                return acknowledgement
            }
        case .heartbeat:
            return await answer(request) { (r: HeartbeatRequest) in
                var acknowledgement = try await store.heartbeat(r)
                acknowledgement.readOnlyClients = try await exportTable.readOnlyClients()
                if acknowledgement.previousState != .up {
                    logger.notice("node is up again", metadata: ["node": "\(r.nodeID)", "was": "\(acknowledgement.previousState)"])
                    await onTransition(NodeStateTransition(nodeID: r.nodeID, from: acknowledgement.previousState, to: .up, at: clock()))
                }
                return acknowledgement
            }
        case .nodes: return await answer(request) { (_: WireEmpty) in NodeListReply(try await store.nodes()) }
        case .status:
            return await answer(request) { (_: WireEmpty) in
                var status = try await store.status()
                status.metaServer = advertisedAddress.current
                return status
            }
        case .createVolume:
            return await answer(request) { (r: VolumeSpecification) in
                let volume = try await store.createVolume(r)
                logger.notice("volume created", metadata: ["volume": "\(volume.name)", "codec": "\(volume.codec)", "k": "\(volume.k)", "n": "\(volume.n)"])
                return volume
            }
        case .volumes: return await answer(request) { (_: WireEmpty) in VolumeListReply(try await store.volumes()) }
        case .groupMap: return await answer(request) { (r: VolumeRequest) in try await store.groupMap(volumeID: r.volumeID) }
        case .replaceMember:
            return await answer(request) { (r: ReplaceMemberRequest) in
                let group = try await store.replaceMember(r)
                logger.notice("group member replaced", metadata: ["group": "\(group.id)", "index": "\(r.index)", "node": "\(r.nodeID)", "epoch": "\(group.epoch)"])
                return group
            }
        }
    }

    /// Sweeps node liveness every `liveness.sweepInterval` until the task is cancelled.
    public func runLivenessSweeps() async {
        while !Task.isCancelled {
            do {
                try await sweepLivenessOnce()
            } catch {
                logger.error("liveness sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: liveness.sweepInterval)
        }
    }

    /// One sweep: moves silent nodes to down or lost, logs and reports each change.
    @discardableResult
    public func sweepLivenessOnce() async throws -> [NodeStateTransition] {
        let transitions = try await store.sweepLiveness(
            now: clock(), downAfter: liveness.downAfter, lostAfter: liveness.lostAfter, notBefore: startedAt
        )
        for transition in transitions {
            logger.warning("node \(transition.to)", metadata: ["node": "\(transition.nodeID)", "was": "\(transition.from)"])
            await onTransition(transition)
        }
        return transitions
    }
}

/// When a silent storage node counts as down and as lost.
public struct LivenessSettings: Sendable, Hashable {
    /// Seconds without a heartbeat before a node is down.
    public var downAfter: Double
    /// Seconds without a heartbeat before a node is lost (its data to be rebuilt elsewhere).
    public var lostAfter: Double

    public init(downAfter: Double = 6, lostAfter: Double = 300) {
        self.downAfter = downAfter
        self.lostAfter = max(lostAfter, downAfter)
    }

    /// How often the service looks: a quarter of `downAfter`, between 0.1 s and 1 s.
    public var sweepInterval: Duration {
        .milliseconds(Int(min(max(downAfter / 4, 0.1), 1) * 1000))
    }
}

/// The Prometheus instruments of one opcode: requests, failures, latency.
struct RequestInstruments: Sendable {
    let requests: Counter
    let failures: Counter
    let latency: Metrics.Timer

    init(_ opcode: MetaOpcode) {
        let dimensions = [("op", "\(opcode)")]
        requests = Counter(label: "radonfs_meta_requests_total", dimensions: dimensions)
        failures = Counter(label: "radonfs_meta_request_failures_total", dimensions: dimensions)
        latency = Metrics.Timer(label: "radonfs_meta_request_duration_seconds", dimensions: dimensions)
    }

    func record(_ duration: Duration, failed: Bool) {
        requests.increment()
        if failed { failures.increment() }
        latency.recordNanoseconds(duration.nanoseconds)
    }
}
