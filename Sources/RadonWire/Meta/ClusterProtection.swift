/// How well the cluster's data is protected right now, per volume, and what would restore full
/// protection: what `radonfs status` and `rebuild` print, so a cluster one loss away from
/// unavailability never looks healthy.
///
/// Computed from a `ClusterStatus` and the healing jobs: a position's fragment counts as there
/// when its member is up and no unfinished rebuild, resync or repair job targets it (a new
/// member holds nothing until its rebuild ends; a returning one may have missed writes). That
/// is conservative for writes recorded as missed but not queued yet.
public struct ClusterProtection: Sendable, Hashable, Codable {
    public struct Volume: Sendable, Hashable, Codable {
        public var id: UInt32
        public var name: String
        public var layout: String
        /// Further node losses every block survives now (the minimum over the groups): 0 when
        /// the next loss could make data unreadable, -1 when some is unreadable now.
        public var lossesSurvived: Int
        /// What the layout survives with every fragment in place on its own host: n - k.
        public var lossesSurvivedWhenHealthy: Int
        public var groups: Int
        /// Groups with every fragment in place on distinct hosts.
        public var groupsHealthy: Int
        /// Groups readable but surviving fewer losses than when healthy.
        public var groupsDegraded: Int
        /// Groups with fewer than k fragments reachable: their files cannot be read now.
        public var groupsUnavailable: Int
        /// Groups with two positions on one host (no other host was free when a member failed).
        public var groupsDoubledUp: Int
        /// Groups with an unfinished rebuild, resync or repair.
        public var groupsHealing: Int
    }

    public var volumes: [Volume]
    /// Sentences saying what restores full protection, or why healing waits; empty when every
    /// group is healthy.
    public var advice: [String]

    /// The least any volume survives (see `Volume.lossesSurvived`); n - k of the widest layout
    /// when there is no volume.
    public var lossesSurvived: Int { volumes.map(\.lossesSurvived).min() ?? 0 }
    public var isFullyProtected: Bool { volumes.allSatisfy { $0.groupsHealthy == $0.groups } }

    /// One placement group's protection, as the volume totals count it (and the console lists).
    public struct Group: Sendable, Hashable, Codable {
        public enum Health: String, Sendable, Hashable, Codable {
            /// Every fragment in place on distinct hosts.
            case healthy
            /// Readable, but surviving fewer losses than when healthy.
            case degraded
            /// Fewer than k fragments reachable.
            case unavailable
        }

        public var id: UInt32
        public var volumeID: UInt32
        public var index: UInt32
        public var members: [UInt32]
        /// Further node losses it survives now (-1: unreadable now).
        public var lossesSurvived: Int
        public var health: Health
        /// Two positions on one host.
        public var isDoubledUp: Bool
        /// An unfinished rebuild, resync or repair targets one of its positions.
        public var isHealing: Bool
    }

    /// Every group's protection, in `status.groups` order. A position's fragment counts as there
    /// when its member is up and no unfinished rebuild, resync or repair job targets it.
    public static func groups(status: ClusterStatus, healing: HealingStatus?) -> [Group] {
        let nodes = Dictionary(status.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func hostKey(_ id: UInt32) -> String { nodes[id]?.failureDomain ?? NodeInfo.failureDomain(ofNode: id) }
        var healingTargets: [UInt32: Set<Int>] = [:]
        for job in healing?.jobs ?? [] where !job.state.isFinished && job.kind != .scrub {
            healingTargets[job.groupID, default: []].formUnion(job.targets.map(Int.init))
        }
        let widths = Dictionary(status.volumes.map { ($0.id, (k: Int($0.k), healthy: Int($0.n) - Int($0.k))) }, uniquingKeysWith: { first, _ in first })
        return status.groups.map { group in
            let width = widths[group.volumeID] ?? (k: group.members.count, healthy: 0)
            let healing = healingTargets[group.id] ?? []
            let holders: [String?] = group.members.enumerated().map { position, member in
                nodes[member]?.state == .up && !healing.contains(position) ? hostKey(member) : nil
            }
            let survived = GroupProtection.lossesSurvived(k: width.k, holders: holders)
            let health: Group.Health = survived < 0 ? .unavailable : survived < width.healthy ? .degraded : .healthy
            return Group(
                id: group.id, volumeID: group.volumeID, index: group.index, members: group.members, lossesSurvived: survived,
                health: health, isDoubledUp: GroupProtection.isDoubled(holders: group.members.map(hostKey)), isHealing: !healing.isEmpty)
        }
    }

    public init(status: ClusterStatus, healing: HealingStatus?) {
        self.init(status: status, groups: Self.groups(status: status, healing: healing))
    }

    /// From `groups`, which `groups(status:healing:)` made of the same status (for a caller that
    /// shows them too, so they are made once).
    public init(status: ClusterStatus, groups: [Group]) {
        let nodes = Dictionary(status.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        func hostKey(_ id: UInt32) -> String { nodes[id]?.failureDomain ?? NodeInfo.failureDomain(ofNode: id) }
        var volumes: [Volume] = []
        var doubledHosts: [UInt32: Int] = [:]
        var waitingOn: [UInt32: Int] = [:]
        for settings in status.volumes {
            let healthy = Int(settings.n) - Int(settings.k)
            var volume = Volume(
                id: settings.id, name: settings.name, layout: "\(settings.k)+\(settings.n - settings.k)", lossesSurvived: healthy,
                lossesSurvivedWhenHealthy: healthy, groups: 0, groupsHealthy: 0, groupsDegraded: 0, groupsUnavailable: 0,
                groupsDoubledUp: 0, groupsHealing: 0)
            for group in groups where group.volumeID == settings.id {
                volume.groups += 1
                volume.lossesSurvived = min(volume.lossesSurvived, group.lossesSurvived)
                switch group.health {
                case .healthy: volume.groupsHealthy += 1
                case .degraded: volume.groupsDegraded += 1
                case .unavailable: volume.groupsUnavailable += 1
                }
                if group.isHealing { volume.groupsHealing += 1 }
                if group.isDoubledUp {
                    volume.groupsDoubledUp += 1
                    let hosts = group.members.map(hostKey)
                    for (position, member) in group.members.enumerated() where hosts.filter({ $0 == hosts[position] }).count > 1 {
                        doubledHosts[member, default: 0] += 1
                    }
                }
                for member in Set(group.members) where nodes[member]?.state != .up { waitingOn[member, default: 0] += 1 }
            }
            volumes.append(volume)
        }
        self.volumes = volumes
        self.advice = Self.advice(volumes: volumes, nodes: status.nodes, now: status.now, waitingOn: waitingOn, doubledUp: doubledHosts)
    }

    private static func advice(
        volumes: [Volume], nodes: [NodeInfo], now: Timestamp, waitingOn: [UInt32: Int], doubledUp: [UInt32: Int]
    ) -> [String] {
        var advice: [String] = []
        let unavailable = volumes.reduce(0) { $0 + $1.groupsUnavailable }
        if unavailable > 0 {
            advice.append("\(unavailable) placement groups have fewer than k fragments reachable: their files cannot be read until a node in them comes back.")
        } else if volumes.contains(where: { $0.lossesSurvived == 0 && $0.lossesSurvivedWhenHealthy > 0 }) {
            advice.append("One more node loss can make data unreadable.")
        }
        for node in nodes.sorted(by: { $0.id < $1.id }) {
            guard let groups = waitingOn[node.id] else { continue }
            let age = max(0, now.seconds - node.since.seconds)
            switch node.state {
            case .down:
                advice.append("Node \(node.id) (\(node.address)) has been down for \(age) s and still holds positions in \(groups) groups: "
                    + "start its daemon again, or run `radonfs rebuild` to rebuild them elsewhere now (done by itself once the node is declared lost).")
            case .lost:
                advice.append("Node \(node.id) (\(node.address)) is lost and still holds positions in \(groups) groups, and no node on another "
                    + "host can take them without lowering what those groups survive: add a storage node (`radonfs node add ID` "
                    + "once it runs) or bring node \(node.id) back.")
            case .up:
                break
            }
        }
        let doubled = volumes.reduce(0) { $0 + $1.groupsDoubledUp }
        if doubled > 0 {
            let holders = doubledUp.keys.sorted().map(String.init).joined(separator: ", ")
            advice.append("\(doubled) groups keep two fragments on one host (nodes \(holders)) because no other host was free when a member "
                + "failed: add a storage node on another host, or bring the failed node back, and they spread out by themselves.")
        }
        let healing = volumes.reduce(0) { $0 + $1.groupsHealing }
        if healing > 0 { advice.append("\(healing) groups are being healed: `radonfs rebuild --watch-only` shows the progress.") }
        return advice
    }

    /// One line per volume, then the advice, as `status` and `rebuild` print them.
    public var lines: [String] {
        var lines = volumes.map { volume in
            let now = volume.lossesSurvived < 0 ? "SOME DATA UNREADABLE NOW"
                : "survives \(volume.lossesSurvived) more node loss\(volume.lossesSurvived == 1 ? "" : "es") now"
            return "  volume \(volume.id) \(volume.name) (\(volume.layout)): \(now) (\(volume.lossesSurvivedWhenHealthy) when healthy); "
                + "\(volume.groups) groups: \(volume.groupsHealthy) healthy, \(volume.groupsDegraded) degraded, \(volume.groupsUnavailable) unavailable"
                + (volume.groupsDoubledUp > 0 ? ", \(volume.groupsDoubledUp) doubled up on a host" : "")
        }
        lines.insert(isFullyProtected ? "Protection: full" : "Protection: REDUCED", at: 0)
        lines += advice.map { "  - " + $0 }
        return lines
    }
}
