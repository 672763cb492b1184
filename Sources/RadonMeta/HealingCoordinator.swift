import Logging
import Synchronization
import NIOCore
import RadonWire

/// How the service heals the cluster.
public struct HealingSettings: Sendable, Hashable {
    /// A running job whose worker has not reported for this long is given to another node,
    /// which resumes it from its last saved file.
    public var leaseSeconds: Double
    /// Move a down node's group positions to spares at once (new writes stay fully protected),
    /// rather than waiting until it is lost.
    public var remapWhenDown: Bool
    /// Seconds between background scrubs of the whole cluster (0: none).
    public var scrubInterval: Double
    /// Read rate of the background scrub per worker, bytes per second (0: unlimited).
    public var scrubRate: UInt64

    public init(leaseSeconds: Double = 15, remapWhenDown: Bool = true, scrubInterval: Double = 0, scrubRate: UInt64 = 8 << 20) {
        self.leaseSeconds = leaseSeconds
        self.remapWhenDown = remapWhenDown
        self.scrubInterval = scrubInterval
        self.scrubRate = scrubRate
    }
}

/// Drives healing from the metadata service: remaps the groups of failed nodes onto spares,
/// queues per-group jobs (rebuild, resync, repair, scrub) that storage daemons claim and run,
/// keeps their progress durably, and hands a dead worker's job to another node.
///
/// All state is in the store's database (tables `healing_job` and `repair_entry`), on either
/// engine, so a restart of the service resumes every job where its worker last reported.
public final class HealingCoordinator: Sendable {
    let store: SQLMetadataStore
    let logger: Logger
    public let settings: HealingSettings
    /// Node states and process ids at the last maintenance pass: a node that re-registered
    /// after being down or lost (no heartbeat transition), or whose daemon restarted before it
    /// was even marked down (a new pid), is noticed there and resynchronised: it may have missed
    /// writes that no client recorded for repair.
    private let lastSeen = Mutex<[UInt32: (state: NodeState, pid: Int32)]>([:])

    public init(store: SQLMetadataStore, logger: Logger, settings: HealingSettings = HealingSettings()) throws {
        self.store = store
        self.logger = logger
        self.settings = settings
    }

    var now: Int64 { store.nowNanoseconds() }

    /// Whether `opcode` is one this coordinator answers.
    public static func handles(_ opcode: UInt8) -> Bool {
        MetaHealingOpcode(rawValue: opcode) != nil
    }

    /// Answers a healing request; every failure becomes an error reply.
    public func handle(_ request: WireRequest) async -> WireResponse {
        guard let opcode = MetaHealingOpcode(rawValue: request.opcode) else {
            return .failure(.badRequest, "not a healing opcode")
        }
        do {
            switch opcode {
            case .claimJob:
                let message = try request.decode(ClaimHealingJobRequest.self)
                return .ok(ClaimHealingJobReply(job: try await claim(for: message.nodeID)))
            case .reportProgress:
                let message = try request.decode(HealingProgressRequest.self)
                return .ok(try await saveProgress(message))
            case .start:
                let message = try request.decode(StartHealingRequest.self)
                return .ok(try await start(message.kind, rate: message.rateLimit))
            case .status:
                _ = try request.decode(WireEmpty.self)
                return .ok(try await status(runID: 0))
            case .nodeCommand:
                let message = try request.decode(NodeCommandRequest.self)
                return .ok(try await nodeCommand(message))
            case .reportDamage:
                let message = try request.decode(DamageReport.self)
                let now = self.now
                try await store.committer.write { db in try db.recordRepair(message, now: now) }
                return .ok(WireEmpty())
            }
        } catch {
            return .failure(for: error)
        }
    }

    // MARK: Node events

    /// The liveness sweep's hook: a down node's positions go to spares (if `remapWhenDown`), a
    /// lost node's always, doubling up on a host where no other is free.
    public func nodeChanged(_ transition: NodeStateTransition) async {
        do {
            switch transition.to {
            case .down where settings.remapWhenDown, .lost:
                let withoutSpare: WithoutSpare = transition.to == .lost ? .doubleUp : .wait
                let moved = try await moveAway(from: transition.nodeID, to: nil, rate: 0, withoutSpare: withoutSpare)
                if moved.moved > 0 || moved.stuck > 0 {
                    logger.notice("groups of a failed node remapped", metadata: [
                        "node": "\(transition.nodeID)", "state": "\(transition.to)", "moved": "\(moved.moved)",
                        "doubled-up": "\(moved.doubled)", "without-spare": "\(moved.stuck)",
                    ])
                }
            case .down, .up:
                // A node back up is resynchronised by the maintenance pass, which also sees
                // nodes that came back by registering again (no heartbeat transition).
                break
            }
        } catch {
            logger.error("healing after a node change failed", metadata: ["node": "\(transition.nodeID)", "error": "\(error)"])
        }
    }

    /// Queues a resync of every group `nodeID` is still a member of (its copy may be stale).
    func resync(nodeID: UInt32) async throws -> Int {
        let now = self.now
        return try await store.committer.write { db in
            let run = try db.nextHealingRun()
            var count = 0
            for group in try db.placementGroups(volumeID: nil) {
                let positions = group.members.indices.filter { group.members[$0] == nodeID }.map(UInt32.init)
                guard !positions.isEmpty else { continue }
                try db.queueHealingJob(run: run, kind: .resync, group: group, targets: positions, rate: 0, now: now)
                count += 1
            }
            return count
        }
    }

    // MARK: Runs

    /// `radonfs rebuild`: spares for every position on a node that is not up (doubling up where
    /// no host is free), groups that doubled up spread out where one is, and a repair job
    /// for every group with recorded repairs. `radonfs scrub`: a scrub job per group.
    func start(_ kind: HealingKind, rate: UInt64) async throws -> HealingStatus {
        let now = self.now
        let run: UInt64 = try await store.committer.write { db in
            let run = try db.nextHealingRun()
            let groups = try db.placementGroups(volumeID: nil)
            if kind == .scrub {
                for group in groups {
                    try db.queueHealingJob(run: run, kind: .scrub, group: group, targets: [], rate: rate, now: now)
                }
                return run
            }
            for node in try db.allNodes() where node.state != .up && groups.contains(where: { $0.members.contains(node.id) }) {
                _ = try self.moveAway(from: node.id, to: nil, rate: rate, run: run, withoutSpare: .doubleUp, db: db, now: now)
            }
            _ = try self.spreadDoubledGroups(rate: rate, run: run, db: db, now: now)
            try self.queueRepairs(run: run, rate: rate, db: db, now: now)
            return run
        }
        return try await status(runID: run)
    }

    /// Repair jobs for groups with recorded repairs whose missing positions are up again.
    func queueRepairs(run: UInt64, rate: UInt64, db: any SQLTransaction, now: Int64) throws {
        let states = try db.nodeEndpoints().mapValues(\.state)
        let busy = Set(try db.healingJobs(where: "state IN (0, 1)").map(\.groupID))
        for (groupID, positions) in try db.pendingRepairsByGroup() where !busy.contains(groupID) {
            guard let group = try db.placementGroup(id: groupID) else {
                try db.clearRepairs(group: groupID, coveredBy: [], recordedBefore: now)
                continue
            }
            let targets = positions.filter { Int($0) < group.members.count }
            guard targets.allSatisfy({ states[group.members[Int($0)]] == .up }) else { continue }
            try db.queueHealingJob(run: run, kind: .repair, group: group, targets: targets, rate: rate, now: now)
        }
    }

    func status(runID: UInt64) async throws -> HealingStatus {
        let now = self.now
        return try await store.engine.read { db in
            let lastRun: UInt64 = try db.row("SELECT COALESCE(MAX(run_id), 0) FROM healing_job").map { $0[0] } ?? 0
            let jobs = try db.healingJobs(
                where: "state IN (0, 1) OR run_id > ? ORDER BY id LIMIT 20000", [lastRun > 20 ? lastRun - 20 : 0])
            return HealingStatus(runID: runID, jobs: jobs, pendingRepairs: try db.pendingRepairCount(), now: Timestamp(nanoseconds: now))
        }
    }

    // MARK: Workers

    /// The job storage node `nodeID` should run: the one it already holds (it restarted), else
    /// the oldest free one, preferring groups the node is a member of (its own fragments are
    /// read locally) but not a target in. A running job whose worker went silent is free.
    func claim(for nodeID: UInt32) async throws -> HealingJob? {
        let now = self.now
        let lease = Int64(settings.leaseSeconds * 1e9)
        return try await store.committer.write { db in
            guard let node = try db.node(id: nodeID), node.state == .up else { return nil }
            if let held = try db.healingJobs(where: "state = 1 AND worker = ? ORDER BY id LIMIT 1", [nodeID]).first {
                try db.markHealingJob(held.id, running: nodeID, now: now)
                return try db.healingJob(id: held.id)
            }
            let states = try db.nodeEndpoints().mapValues(\.state)
            let free = try db.healingJobs(where: "state IN (0, 1) ORDER BY id LIMIT 2000").filter { job in
                job.state == .queued || job.updatedAt.totalNanoseconds < now - lease || states[job.workerNodeID] != .up
            }
            var fallback: HealingJob?
            for job in free {
                guard let group = try db.placementGroup(id: job.groupID) else {
                    try db.saveHealingProgress(job.finishing(.done, "the group no longer exists"), finished: true, now: now)
                    continue
                }
                let position = group.members.firstIndex(of: nodeID).map(UInt32.init)
                if let position, !job.targets.contains(position) {
                    try db.markHealingJob(job.id, running: nodeID, now: now)
                    return try db.healingJob(id: job.id)
                }
                if fallback == nil { fallback = job }
            }
            guard let fallback else { return nil }
            try db.markHealingJob(fallback.id, running: nodeID, now: now)
            return try db.healingJob(id: fallback.id)
        }
    }

    func saveProgress(_ report: HealingProgressRequest) async throws -> HealingProgressReply {
        let now = self.now
        return try await store.committer.write { db in
            guard let stored = try db.healingJob(id: report.job.id), stored.state == .running, stored.workerNodeID == report.nodeID else {
                return HealingProgressReply(keepGoing: false, rateLimit: 0)
            }
            try db.saveHealingProgress(report.job, finished: report.finished, now: now)
            if report.finished, report.job.state == .done, report.job.unrecoverable == 0 {
                try db.clearRepairs(group: stored.groupID, coveredBy: stored.targets, recordedBefore: stored.createdAt.totalNanoseconds)
            }
            return HealingProgressReply(keepGoing: true, rateLimit: stored.rateLimit)
        }
    }

    // MARK: Background

    /// Every couple of seconds: queue repairs whose nodes are back, spread groups that doubled
    /// up on a host once another host is free, start the periodic scrub.
    public func runMaintenance() async {
        var lastScrub = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let now = self.now
                let scrubDue = settings.scrubInterval > 0 && ContinuousClock.now - lastScrub >= .seconds(settings.scrubInterval)
                let rate = settings.scrubRate
                try await store.committer.write { db in
                    let run = try db.nextHealingRun()
                    try self.queueRepairs(run: run, rate: 0, db: db, now: now)
                    let spread = try self.spreadDoubledGroups(rate: 0, run: run, db: db, now: now)
                    if spread > 0 {
                        self.logger.notice("positions doubled up on a host moved to a free one", metadata: ["positions": "\(spread)"])
                    }
                    if scrubDue, try db.healingJobs(where: "state IN (0, 1) AND kind = 3 LIMIT 1").isEmpty {
                        for group in try db.placementGroups(volumeID: nil) {
                            try db.queueHealingJob(run: run, kind: .scrub, group: group, targets: [], rate: rate, now: now)
                        }
                    }
                }
                if scrubDue { lastScrub = .now }
                let nodes = try await store.nodes()
                let returned = lastSeen.withLock { last in
                    defer { last = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, (state: $0.state, pid: $0.pid)) }) }
                    return nodes.filter { node in
                        guard node.state == .up, let before = last[node.id] else { return false }
                        return before.state != .up || (before.pid != 0 && node.pid != 0 && before.pid != node.pid)
                    }.map(\.id)
                }
                for nodeID in returned {
                    let queued = try await resync(nodeID: nodeID)
                    logger.notice("node back (or its daemon restarted): resync queued", metadata: ["node": "\(nodeID)", "groups": "\(queued)"])
                }
            } catch {
                logger.error("healing maintenance failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }
}
