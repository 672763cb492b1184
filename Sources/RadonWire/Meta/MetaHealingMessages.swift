import NIOCore

/// The metadata service's healing opcodes (0x88-0x8F of its range). They sit in their own enum
/// so the namespace and cluster dispatch stays untouched: the daemon routes these to its
/// `HealingCoordinator`. Raw values are the wire encoding: never renumber, only append.
public enum MetaHealingOpcode: UInt8, Sendable, CaseIterable {
    /// A storage daemon asks for a rebuild, resync, repair or scrub job to run.
    case claimJob = 0x88
    /// A worker reports how far it got (persisted, so another worker resumes from there).
    case reportProgress = 0x89
    /// `radonfs rebuild` / `radonfs scrub`: queue work for the whole cluster.
    case start = 0x8A
    /// Every recent job, for `--watch` and `status`.
    case status = 0x8B
    /// `radonfs node add|replace|remove`.
    case nodeCommand = 0x8C
    /// A client's write that missed some members: what to backfill.
    case reportDamage = 0x8D
}

/// What a healing job does to its placement group.
public enum HealingKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A member was replaced (lost, removed, or moved by rebalance): fill its position.
    case rebuild = 0
    /// A member came back after being down: bring its stale or missing fragments up to date.
    case resync = 1
    /// Writes missed some fragments (recorded by clients): backfill them.
    case repair = 2
    /// Read every fragment, check CRCs and that the fragments of each block agree; fix.
    case scrub = 3

    public var description: String {
        switch self {
        case .rebuild: "rebuild"
        case .resync: "resync"
        case .repair: "repair"
        case .scrub: "scrub"
        }
    }
}

public enum HealingJobState: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case queued = 0
    case running = 1
    case done = 2
    /// Finished with blocks it could not repair (fewer than k good fragments), or abandoned.
    case failed = 3

    public var description: String {
        switch self {
        case .queued: "queued"
        case .running: "running"
        case .done: "done"
        case .failed: "failed"
        }
    }

    public var isFinished: Bool { self == .done || self == .failed }
}

/// One group's healing work, as the service keeps it (durably, with its progress).
public struct HealingJob: WireMessage, Hashable {
    public var id: UInt64
    /// Jobs queued together (one `rebuild`, one `scrub`, one node event) share a run.
    public var runID: UInt64
    public var kind: HealingKind
    public var volumeID: UInt32
    public var groupID: UInt32
    /// Fragment positions to bring up to date; empty means every position (scrub).
    public var targets: [UInt32]
    public var state: HealingJobState
    /// The storage node running it (0: none yet).
    public var workerNodeID: UInt32
    /// Files with an inode up to this one are done: a resumed job starts after it.
    public var cursorInode: UInt64
    public var filesDone: UInt64
    /// Fragment bytes written to repaired positions.
    public var bytesWritten: UInt64
    /// Fragment bytes read to check or rebuild.
    public var bytesRead: UInt64
    public var blocksChecked: UInt64
    /// Fragments found missing, older than their block, corrupt, or disagreeing.
    public var found: UInt64
    /// Of those, rewritten with the right bytes.
    public var fixed: UInt64
    /// Blocks with fewer than k good fragments: nothing could be done.
    public var unrecoverable: UInt64
    /// Bytes per second the worker may read (0: unlimited).
    public var rateLimit: UInt64
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var message: String

    public init(
        id: UInt64, runID: UInt64, kind: HealingKind, volumeID: UInt32, groupID: UInt32, targets: [UInt32],
        state: HealingJobState = .queued, workerNodeID: UInt32 = 0, cursorInode: UInt64 = 0, filesDone: UInt64 = 0,
        bytesWritten: UInt64 = 0, bytesRead: UInt64 = 0, blocksChecked: UInt64 = 0, found: UInt64 = 0, fixed: UInt64 = 0,
        unrecoverable: UInt64 = 0, rateLimit: UInt64 = 0, createdAt: Timestamp, updatedAt: Timestamp, message: String = ""
    ) {
        self.id = id
        self.runID = runID
        self.kind = kind
        self.volumeID = volumeID
        self.groupID = groupID
        self.targets = targets
        self.state = state
        self.workerNodeID = workerNodeID
        self.cursorInode = cursorInode
        self.filesDone = filesDone
        self.bytesWritten = bytesWritten
        self.bytesRead = bytesRead
        self.blocksChecked = blocksChecked
        self.found = found
        self.fixed = fixed
        self.unrecoverable = unrecoverable
        self.rateLimit = rateLimit
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.message = message
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(id, runID, kind.rawValue, volumeID, groupID)
        buffer.writeWireArray(targets) { $0.writeInteger($1) }
        buffer.writeMultipleIntegers(state.rawValue, workerNodeID, cursorInode, filesDone, bytesWritten, bytesRead)
        buffer.writeMultipleIntegers(blocksChecked, found, fixed, unrecoverable, rateLimit)
        createdAt.encode(into: &buffer)
        updatedAt.encode(into: &buffer)
        buffer.writeWireString(message)
    }

    public init(from buffer: inout ByteBuffer) throws {
        id = try buffer.readWireInteger()
        runID = try buffer.readWireInteger()
        kind = try HealingKind.read(from: &buffer)
        volumeID = try buffer.readWireInteger()
        groupID = try buffer.readWireInteger()
        targets = try buffer.readWireArray(maximumCount: 64) { try $0.readWireInteger() }
        state = try HealingJobState.read(from: &buffer)
        workerNodeID = try buffer.readWireInteger()
        cursorInode = try buffer.readWireInteger()
        filesDone = try buffer.readWireInteger()
        bytesWritten = try buffer.readWireInteger()
        bytesRead = try buffer.readWireInteger()
        blocksChecked = try buffer.readWireInteger()
        found = try buffer.readWireInteger()
        fixed = try buffer.readWireInteger()
        unrecoverable = try buffer.readWireInteger()
        rateLimit = try buffer.readWireInteger()
        createdAt = try Timestamp(from: &buffer)
        updatedAt = try Timestamp(from: &buffer)
        message = try buffer.readWireString(maximumLength: 4096)
    }
}

extension HealingKind {
    static func read(from buffer: inout ByteBuffer) throws -> HealingKind {
        let raw: UInt8 = try buffer.readWireInteger()
        guard let kind = HealingKind(rawValue: raw) else { throw WireError(.badRequest, "unknown healing kind \(raw)") }
        return kind
    }
}

extension HealingJobState {
    static func read(from buffer: inout ByteBuffer) throws -> HealingJobState {
        let raw: UInt8 = try buffer.readWireInteger()
        guard let state = HealingJobState(rawValue: raw) else { throw WireError(.badRequest, "unknown healing job state \(raw)") }
        return state
    }
}

public struct ClaimHealingJobRequest: WireMessage, Hashable {
    public var nodeID: UInt32
    public init(nodeID: UInt32) { self.nodeID = nodeID }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(nodeID) }
    public init(from buffer: inout ByteBuffer) throws { nodeID = try buffer.readWireInteger() }
}

/// The job to run, or none.
public struct ClaimHealingJobReply: WireMessage, Hashable {
    public var job: HealingJob?
    public init(job: HealingJob?) { self.job = job }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireOptional(job) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { job = try buffer.readWireOptional { try HealingJob(from: &$0) } }
}

/// A worker's progress: the job as the worker sees it (cursor and counters are cumulative).
public struct HealingProgressRequest: WireMessage, Hashable {
    public var nodeID: UInt32
    public var job: HealingJob
    /// The job is over (its state says done or failed).
    public var finished: Bool

    public init(nodeID: UInt32, job: HealingJob, finished: Bool) {
        self.nodeID = nodeID
        self.job = job
        self.finished = finished
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(nodeID)
        job.encode(into: &buffer)
        buffer.writeWireBool(finished)
    }

    public init(from buffer: inout ByteBuffer) throws {
        nodeID = try buffer.readWireInteger()
        job = try HealingJob(from: &buffer)
        finished = try buffer.readWireBool()
    }
}

/// Whether the worker should go on (false: the job was given to another node or cancelled),
/// and the rate it may use now.
public struct HealingProgressReply: WireMessage, Hashable {
    public var keepGoing: Bool
    public var rateLimit: UInt64
    public init(keepGoing: Bool, rateLimit: UInt64) {
        self.keepGoing = keepGoing
        self.rateLimit = rateLimit
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireBool(keepGoing)
        buffer.writeInteger(rateLimit)
    }
    public init(from buffer: inout ByteBuffer) throws {
        keepGoing = try buffer.readWireBool()
        rateLimit = try buffer.readWireInteger()
    }
}

/// `radonfs rebuild` (kind `.rebuild`: every group with a member not up gets a spare where one
/// is free, and everything recorded for repair is queued) or `radonfs scrub` (every group).
public struct StartHealingRequest: WireMessage, Hashable {
    public var kind: HealingKind
    public var rateLimit: UInt64
    public init(kind: HealingKind, rateLimit: UInt64) {
        self.kind = kind
        self.rateLimit = rateLimit
    }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(rateLimit)
    }
    public init(from buffer: inout ByteBuffer) throws {
        kind = try HealingKind.read(from: &buffer)
        rateLimit = try buffer.readWireInteger()
    }
}

/// Recent jobs (unfinished ones and those of the last runs) and the repair queue's length.
public struct HealingStatus: WireMessage, Hashable {
    /// The run the request started, if it started one (0 otherwise).
    public var runID: UInt64
    public var jobs: [HealingJob]
    /// Block fragments recorded by clients as missed and not yet repaired.
    public var pendingRepairs: UInt64
    public var now: Timestamp

    public init(runID: UInt64, jobs: [HealingJob], pendingRepairs: UInt64, now: Timestamp) {
        self.runID = runID
        self.jobs = jobs
        self.pendingRepairs = pendingRepairs
        self.now = now
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(runID)
        buffer.writeWireArray(jobs) { $1.encode(into: &$0) }
        buffer.writeInteger(pendingRepairs)
        now.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        runID = try buffer.readWireInteger()
        jobs = try buffer.readWireArray { try HealingJob(from: &$0) }
        pendingRepairs = try buffer.readWireInteger()
        now = try Timestamp(from: &buffer)
    }
}

/// `radonfs node add|replace|remove`.
public struct NodeCommandRequest: WireMessage, Hashable {
    public enum Action: UInt8, Sendable, Hashable, CaseIterable {
        /// Rebalance: move group positions onto `nodeID` (a node that registered) until it
        /// carries its share.
        case add = 0
        /// Every position of `nodeID` goes to `replacementID` (0: the best spare per group).
        case replace = 1
        /// Every position of `nodeID` goes to spares; the node then carries nothing.
        case remove = 2
    }

    public var action: Action
    public var nodeID: UInt32
    public var replacementID: UInt32
    public var rateLimit: UInt64

    public init(action: Action, nodeID: UInt32, replacementID: UInt32 = 0, rateLimit: UInt64 = 0) {
        self.action = action
        self.nodeID = nodeID
        self.replacementID = replacementID
        self.rateLimit = rateLimit
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(action.rawValue, nodeID, replacementID, rateLimit)
    }

    public init(from buffer: inout ByteBuffer) throws {
        let raw: UInt8 = try buffer.readWireInteger()
        guard let action = Action(rawValue: raw) else { throw WireError(.badRequest, "unknown node action \(raw)") }
        self.action = action
        nodeID = try buffer.readWireInteger()
        replacementID = try buffer.readWireInteger()
        rateLimit = try buffer.readWireInteger()
    }
}

/// Fragments a write could not place: block `blockIndex` of `inode` lacks `fragmentIndices`.
public struct DamageReport: WireMessage, Hashable {
    public var groupID: UInt32
    public var inode: UInt64
    public var blockIndex: UInt64
    public var fragmentIndices: [UInt32]

    public init(groupID: UInt32, inode: UInt64, blockIndex: UInt64, fragmentIndices: [UInt32]) {
        self.groupID = groupID
        self.inode = inode
        self.blockIndex = blockIndex
        self.fragmentIndices = fragmentIndices
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(groupID, inode, blockIndex)
        buffer.writeWireArray(fragmentIndices) { $0.writeInteger($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        groupID = try buffer.readWireInteger()
        inode = try buffer.readWireInteger()
        blockIndex = try buffer.readWireInteger()
        fragmentIndices = try buffer.readWireArray(maximumCount: 64) { try $0.readWireInteger() }
    }
}

extension MetaClient {
    private func healingCall<Response: WireMessage>(_ opcode: MetaHealingOpcode, _ request: some WireMessage) async throws -> Response {
        try Response(decoding: try await transport.call(metaOpcode: opcode.rawValue, payload: request.encoded(), timeout: timeout))
    }

    /// The next healing job for storage node `nodeID`, or nil when there is none for it.
    public func claimHealingJob(nodeID: UInt32) async throws -> HealingJob? {
        let reply: ClaimHealingJobReply = try await healingCall(.claimJob, ClaimHealingJobRequest(nodeID: nodeID))
        return reply.job
    }

    /// Persists a worker's progress; the reply says whether to go on.
    public func reportHealingProgress(nodeID: UInt32, job: HealingJob, finished: Bool) async throws -> HealingProgressReply {
        try await healingCall(.reportProgress, HealingProgressRequest(nodeID: nodeID, job: job, finished: finished))
    }

    /// Queues a cluster-wide rebuild or scrub; the reply names the run.
    public func startHealing(_ kind: HealingKind, rateLimit: UInt64 = 0) async throws -> HealingStatus {
        try await healingCall(.start, StartHealingRequest(kind: kind, rateLimit: rateLimit))
    }

    public func healingStatus() async throws -> HealingStatus {
        try await healingCall(.status, WireEmpty())
    }

    public func nodeCommand(_ request: NodeCommandRequest) async throws -> HealingStatus {
        try await healingCall(.nodeCommand, request)
    }

    /// Records fragments a write missed, so a repair job backfills them.
    public func reportDamage(_ report: DamageReport) async throws {
        let _: WireEmpty = try await healingCall(.reportDamage, report)
    }
}

extension HealingJob {
    /// This job ended in `state` with `message`: how the coordinator and the workers close a
    /// job whose group went away.
    public func finishing(_ state: HealingJobState, _ message: String) -> HealingJob {
        var job = self
        job.state = state
        job.message = message
        return job
    }
}
