import RadonWire

/// Something that happened to the cluster, as the console lists it under "Recent events".
public struct ClusterEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case watching, nodeJoined, nodeDown, nodeUp, nodeLost, nodeGone
        case healingStarted, healingFinished, scrubStarted, scrubFinished
        case protectionChanged, adminAction, serviceUnreachable, serviceBack
    }

    /// Unix seconds.
    public var time: Double
    public var kind: Kind
    /// Whether it needs an operator's attention (the page shows it in red).
    public var isWarning: Bool
    public var message: String

    public init(time: Double, kind: Kind, isWarning: Bool = false, message: String) {
        self.time = time
        self.kind = kind
        self.isWarning = isWarning
        self.message = message
    }
}

/// The events between two looks at the cluster: what changed in the node registry, the healing
/// runs and the protection. Pure, so the rules are tested without a cluster.
///
/// The console sees only what its polls see: a node down and up again between two polls makes no
/// event (polls are a second apart, well under the service's down-after of several seconds).
public struct ClusterObservation: Sendable {
    public var status: ClusterStatus
    public var healing: HealingStatus

    public init(status: ClusterStatus, healing: HealingStatus) {
        self.status = status
        self.healing = healing
    }

    /// What tells `previous` (nil at the first look) from `self`, oldest first.
    public func events(since previous: ClusterObservation?) -> [ClusterEvent] {
        let time = status.now.unixSeconds
        guard let previous else {
            let counts = NodeState.allCases.map { state in "\(status.nodes.filter { $0.state == state }.count) \(state)" }
            var events = [ClusterEvent(time: time, kind: .watching, message: "Console started: \(status.nodes.count) storage nodes (\(counts.joined(separator: ", ")))")]
            for node in status.nodes.sorted(by: { $0.id < $1.id }) where node.state != .up {
                events.append(ClusterEvent(time: time, kind: node.state == .lost ? .nodeLost : .nodeDown, isWarning: true,
                                           message: "Node \(node.id) (\(node.address)) is \(node.state)"))
            }
            return events
        }
        return nodeEvents(since: previous, time: time) + healingEvents(since: previous, time: time)
            + protectionEvents(since: previous, time: time)
    }

    private func nodeEvents(since previous: ClusterObservation, time: Double) -> [ClusterEvent] {
        let before = Dictionary(previous.status.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var events: [ClusterEvent] = []
        for node in status.nodes.sorted(by: { $0.id < $1.id }) {
            let name = "Node \(node.id) (\(node.address))"
            guard let old = before[node.id] else {
                events.append(ClusterEvent(time: time, kind: .nodeJoined, message: "\(name) joined, \(node.state)"))
                continue
            }
            guard old.state != node.state else { continue }
            switch node.state {
            case .down: events.append(ClusterEvent(time: time, kind: .nodeDown, isWarning: true, message: "\(name) is down (no heartbeat)"))
            case .lost: events.append(ClusterEvent(time: time, kind: .nodeLost, isWarning: true, message: "\(name) is lost: its positions are rebuilt elsewhere where a host is free"))
            case .up: events.append(ClusterEvent(time: time, kind: .nodeUp, message: "\(name) is up again (was \(old.state))"))
            }
        }
        let now = Set(status.nodes.map(\.id))
        for id in before.keys.sorted() where !now.contains(id) {
            events.append(ClusterEvent(time: time, kind: .nodeGone, message: "Node \(id) left the registry"))
        }
        return events
    }

    /// Runs that appeared, and runs whose last job finished, per run id.
    private func healingEvents(since previous: ClusterObservation, time: Double) -> [ClusterEvent] {
        let runs = Dictionary(grouping: healing.jobs, by: \.runID)
        let earlier = Dictionary(grouping: previous.healing.jobs, by: \.runID)
        var events: [ClusterEvent] = []
        for (run, jobs) in runs.sorted(by: { $0.key < $1.key }) {
            let isScrub = jobs.allSatisfy { $0.kind == .scrub }
            let kinds = Set(jobs.map { "\($0.kind)" }).sorted().joined(separator: "/")
            let totals = HealingTotals(jobs)
            let old = earlier[run]
            if old == nil {
                events.append(ClusterEvent(time: time, kind: isScrub ? .scrubStarted : .healingStarted,
                                           message: "\(kinds.capitalizedFirst) run \(run) started: \(totals.jobs) placement groups"))
            }
            let wasComplete = old.map { HealingTotals($0).isComplete } ?? false
            guard totals.isComplete, !wasComplete else { continue }
            let message = isScrub
                ? "Scrub run \(run) finished: \(totals.blocksChecked) blocks checked, \(totals.found) bad fragments found, \(totals.fixed) fixed, \(totals.unrecoverable) blocks unrecoverable"
                : "\(kinds.capitalizedFirst) run \(run) finished: \(totals.jobs - totals.failed) of \(totals.jobs) groups healed, \(HealingTotals.megabytes(totals.bytesWritten)) written"
            let isWarning = totals.failed > 0 || totals.unrecoverable > 0 || (isScrub && totals.found > totals.fixed)
            events.append(ClusterEvent(time: time, kind: isScrub ? .scrubFinished : .healingFinished, isWarning: isWarning, message: message))
        }
        return events
    }

    /// A change of what every block survives; none while the first storage nodes register (the
    /// groups are "unavailable" only because nobody has joined yet).
    private func protectionEvents(since previous: ClusterObservation, time: Double) -> [ClusterEvent] {
        guard !previous.status.nodes.isEmpty else { return [] }
        let before = ClusterProtection(status: previous.status, healing: previous.healing)
        let after = ClusterProtection(status: status, healing: healing)
        guard before.lossesSurvived != after.lossesSurvived || before.isFullyProtected != after.isFullyProtected else { return [] }
        let message = after.lossesSurvived < 0 ? "Some data is unreadable now"
            : after.isFullyProtected ? "Full protection again: every block survives \(after.lossesSurvived) more node losses"
            : "Protection reduced: every block survives \(after.lossesSurvived) more node loss\(after.lossesSurvived == 1 ? "" : "es") now"
        return [ClusterEvent(time: time, kind: .protectionChanged, isWarning: !after.isFullyProtected, message: message)]
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
