import RadonWire

/// What the console page shows, as one JSON document (`GET /api/state`): built from one
/// `status` and one healing status of the metadata service, plus the events seen so far.
///
/// Times are Unix seconds (the page formats them); byte counts are bytes. A standby server's
/// snapshot has `isActive` false and nothing else but the events: the active server's console
/// is the one to read.
public struct ConsoleSnapshot: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var id: UInt32
        public var address: String
        public var host: String
        public var state: String
        public var capacity: UInt64
        public var free: UInt64
        public var fragments: UInt64
        /// When the node entered its state.
        public var since: Double
        public var lastSeen: Double
    }

    public struct Volume: Codable, Sendable, Equatable {
        public var settings: VolumeSettings
        public var protection: ClusterProtection.Volume
    }

    /// One healing run kind's totals (rebuild, resync and repair together; scrub apart), as
    /// `rebuild --watch` prints them.
    public struct Healing: Codable, Sendable, Equatable {
        public var groups: Int
        public var finished: Int
        public var failed: Int
        public var running: Int
        public var fraction: Double
        public var bytesWritten: UInt64
        public var bytesRead: UInt64
        public var bytesPerSecond: Double
        /// Seconds left at the pace so far; nil before a group has finished.
        public var remainingSeconds: Double?
        public var found: UInt64
        public var fixed: UInt64
        public var unrecoverable: UInt64
        public var isComplete: Bool

        init?(_ jobs: [HealingJob], now: Timestamp) {
            let totals = HealingTotals(jobs)
            guard totals.jobs > 0 else { return nil }
            groups = totals.jobs
            finished = totals.finished
            failed = totals.failed
            running = totals.running
            fraction = totals.fraction
            bytesWritten = totals.bytesWritten
            bytesRead = totals.bytesRead
            bytesPerSecond = totals.rate(now: now)
            remainingSeconds = totals.remainingSeconds(now: now)
            found = totals.found
            fixed = totals.fixed
            unrecoverable = totals.unrecoverable
            isComplete = totals.isComplete
        }
    }

    /// When this snapshot was taken (the metadata service's clock).
    public var takenAt: Double
    /// False on a standby server, or when the metadata service did not answer (`problem` says why).
    public var isActive: Bool
    public var problem: String?
    public var nodes: [Node] = []
    public var volumes: [Volume] = []
    public var groups: [ClusterProtection.Group] = []
    public var isFullyProtected = true
    public var lossesSurvived = 0
    /// What restores full protection, or why healing waits (`ClusterProtection.advice`).
    public var advice: [String] = []
    public var rawCapacity: UInt64 = 0
    public var rawFree: UInt64 = 0
    public var fileCount: UInt64 = 0
    public var rebuild: Healing?
    public var scrub: Healing?
    public var pendingRepairs: UInt64 = 0
    /// Newest first.
    public var events: [ClusterEvent] = []

    /// A snapshot of a metadata service that did not answer.
    public init(takenAt: Double, problem: String, isActive: Bool = false) {
        self.takenAt = takenAt
        self.isActive = isActive
        self.problem = problem
    }

    public init(status: ClusterStatus, healing: HealingStatus) {
        takenAt = status.now.unixSeconds
        isActive = true
        nodes = status.nodes.sorted { $0.id < $1.id }.map { node in
            Node(id: node.id, address: node.address.description, host: node.hostID, state: "\(node.state)", capacity: node.capacity,
                 free: node.free, fragments: node.fragmentCount, since: node.since.unixSeconds, lastSeen: node.lastSeen.unixSeconds)
        }
        groups = ClusterProtection.groups(status: status, healing: healing)
        let protection = ClusterProtection(status: status, groups: groups)
        volumes = status.volumes.sorted { $0.id < $1.id }.compactMap { settings in
            guard let volume = protection.volumes.first(where: { $0.id == settings.id }) else { return nil }
            return Volume(settings: settings, protection: volume)
        }
        isFullyProtected = protection.isFullyProtected
        lossesSurvived = protection.lossesSurvived
        advice = protection.advice
        let up = status.nodes.filter { $0.state == .up }
        rawCapacity = up.reduce(0) { $0 + $1.capacity }
        rawFree = up.reduce(0) { $0 + $1.free }
        fileCount = status.inodeCount
        rebuild = Healing(healing.repairJobs, now: healing.now)
        scrub = Healing(healing.scrubJobs, now: healing.now)
        pendingRepairs = healing.pendingRepairs
    }
}

extension Timestamp {
    var unixSeconds: Double { Double(seconds) + Double(nanoseconds) / 1e9 }
}
