import Logging
import RadonCodec
import RadonWire
import Synchronization

/// The healing worker inside a storage daemon: asks the metadata service for a job (one
/// placement group's rebuild, resync, repair or scrub), runs it with `GroupHealer`, reports
/// progress every second (so another node resumes it if this one dies), and asks again.
///
/// Every storage daemon runs one, so a cluster of N nodes heals N groups at a time: bigger
/// clusters rebuild faster.
public final class RebuildWorker: Sendable {
    /// The metadata service, over every metadata address (riding through short outages).
    let metaClient: MetaClient
    let pool: WireConnectionPool
    /// This daemon's node id once it registered (nil before).
    let nodeID: @Sendable () -> UInt32?
    let logger: Logger
    let pollInterval: Duration
    /// This daemon's own address, where the stale-group sweep lists and deletes (nil: no sweep).
    let ownAddress: WireAddress?
    /// How long the node must be out of a group before its fragments there are deleted.
    let staleGrace: Duration
    /// Erasure codes by volume settings, made once.
    private let codes = ErasureCodeCache()

    public init(
        meta: [WireAddress], pool: WireConnectionPool, nodeID: @escaping @Sendable () -> UInt32?, logger: Logger,
        pollInterval: Duration = .seconds(1), ownAddress: WireAddress? = nil, staleGrace: Duration = .seconds(60)
    ) {
        self.metaClient = MetaClient(transport: MetaFailover(addresses: meta, pool: pool, rideThrough: .seconds(10), logger: logger), timeout: .seconds(10))
        self.pool = pool
        self.nodeID = nodeID
        self.logger = logger
        self.pollInterval = pollInterval
        self.ownAddress = ownAddress
        self.staleGrace = staleGrace
    }

    /// Claims and runs jobs until the task is cancelled; between jobs, now and then, deletes the
    /// fragments of groups this node no longer belongs to.
    public func run() async {
        var staleCandidates = StaleCandidates()
        var lastSweep = ContinuousClock.now
        let sweepInterval = max(.seconds(1), min(.seconds(10), staleGrace / 2))
        while !Task.isCancelled {
            var worked = false
            if let nodeID = nodeID(), let ownAddress, ContinuousClock.now - lastSweep >= sweepInterval {
                lastSweep = .now
                do {
                    _ = try await sweepStaleGroups(nodeID: nodeID, own: ownAddress, candidates: &staleCandidates)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("the stale-group sweep failed; it will be tried again", metadata: ["error": "\(error)"])
                }
            }
            if let nodeID = nodeID() {
                do {
                    let meta = metaClient
                    if let job = try await meta.claimHealingJob(nodeID: nodeID) {
                        worked = true
                        try await run(job, as: nodeID)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("healing job failed; it will be retried", metadata: ["error": "\(error)"])
                }
            }
            if !worked { try? await Task.sleep(for: pollInterval) }
        }
    }

    /// Runs one job to its end (or until the service gives it to someone else).
    func run(_ job: HealingJob, as nodeID: UInt32) async throws {
        let meta = metaClient
        let map = try await meta.groupMap(volumeID: job.volumeID)
        guard let group = map.groups.first(where: { $0.id == job.groupID }) else {
            _ = try await meta.reportHealingProgress(nodeID: nodeID, job: job.finishing(.done, "group gone"), finished: true)
            return
        }
        logger.info("healing job started", metadata: [
            "job": "\(job.id)", "kind": "\(job.kind)", "group": "\(group.id)", "targets": "\(job.targets)", "from-inode": "\(job.cursorInode)",
        ])
        var healer = GroupHealer(
            job: job, group: group, volume: map.volume, endpoints: Dictionary(uniqueKeysWithValues: map.nodes.map { ($0.id, $0) }),
            code: try code(for: map.volume), pool: pool, logger: logger)
        let finished = try await healer.run { progress, finished in
            let reply = try await meta.reportHealingProgress(nodeID: nodeID, job: progress, finished: finished)
            return reply.keepGoing ? reply.rateLimit : nil
        }
        logger.info("healing job ended", metadata: [
            "job": "\(job.id)", "state": "\(finished.state)", "files": "\(finished.filesDone)", "found": "\(finished.found)",
            "fixed": "\(finished.fixed)", "unrecoverable": "\(finished.unrecoverable)", "message": "\(finished.message)",
        ])
    }

    func code(for volume: VolumeSettings) throws -> any ErasureCode {
        guard let kind = CodecKind(rawValue: volume.codec) else {
            throw WireError(.unsupported, "volume \(volume.name) uses codec \"\(volume.codec)\", unknown here")
        }
        return try codes.code(kind: kind, layout: try CodecLayout(k: Int(volume.k), n: Int(volume.n)), blockSize: Int(volume.blockSize))
    }
}

extension NodeRegistration {
    /// Heartbeats, and beside them this node's healing worker, which claims jobs under the node
    /// id the registration got. Runs until its task is cancelled.
    public func runWithRebuildWorker() async {
        let nodeID = RegisteredNodeID()
        let worker = RebuildWorker(
            meta: metaAddresses, pool: WireConnectionPool(credentials: credentials), nodeID: { nodeID.value.withLock { $0 } }, logger: logger,
            ownAddress: identity.address, staleGrace: RebuildWorker.staleGraceFromEnvironment())
        await withDiscardingTaskGroup { group in
            group.addTask { await self.run(onRegistered: { id in nodeID.value.withLock { $0 = id } }) }
            group.addTask { await worker.run() }
        }
    }
}

/// The node id the registration got, shared with the worker.
final class RegisteredNodeID: Sendable {
    let value = Mutex<UInt32?>(nil)
}
