import RadonWire

/// Chooses the members of placement groups: n distinct nodes per group, never two on one host
/// (nodes that declare no host are hosts of their own), spread so that each node carries
/// groups in proportion to its free space.
///
/// Greedy: for each member slot, the candidate with the lowest `(groups carried + 1) / free`
/// whose host the group does not use yet. Members are then rotated by the group's index, so
/// the data fragment positions (0..<k, the ones a systematic read prefers) move around too.
struct PlacementPlanner {
    struct Candidate: Sendable, Hashable {
        var id: UInt32
        var hostKey: String
        var free: UInt64
    }

    private(set) var candidates: [Candidate]
    /// Groups each node is already a member of.
    private(set) var load: [UInt32: Int]

    init(nodes: [NodeInfo], existingGroups: [PlacementGroup]) {
        candidates = nodes.filter { $0.state == .up }.map {
            Candidate(id: $0.id, hostKey: $0.hostID.isEmpty ? "node:\($0.id)" : "host:\($0.hostID)", free: $0.free)
        }
        load = [:]
        for group in existingGroups { for member in group.members { load[member, default: 0] += 1 } }
    }

    /// Distinct hosts among the up nodes: the most members a group can have.
    var distinctHosts: Int { Set(candidates.map(\.hostKey)).count }

    private func score(_ candidate: Candidate) -> Double {
        Double(load[candidate.id, default: 0] + 1) / Double(max(candidate.free, 1))
    }

    /// The best candidate not on any host in `usedHosts` and not in `excluded`.
    mutating func pick(avoidingHosts usedHosts: Set<String>, excluding excluded: Set<UInt32> = []) -> Candidate? {
        let best = candidates
            .filter { !usedHosts.contains($0.hostKey) && !excluded.contains($0.id) }
            .min { (score($0), $0.id) < (score($1), $1.id) }
        if let best { load[best.id, default: 0] += 1 }
        return best
    }

    /// The members of a new group at `index`, or nil when fewer than `n` hosts are up.
    mutating func members(count n: Int, index: Int) -> [UInt32]? {
        var chosen: [Candidate] = []
        for _ in 0..<n {
            guard let next = pick(avoidingHosts: Set(chosen.map(\.hostKey))) else { return nil }
            chosen.append(next)
        }
        let shift = index % n
        return (chosen[shift...] + chosen[..<shift]).map(\.id)
    }

    /// A node to take fragment index `index` of `group` (for degraded-mode remapping and
    /// rebuild): on a host none of the other members use, and not a member already.
    mutating func replacement(for group: PlacementGroup, at index: Int, hostKeys: [UInt32: String]) -> UInt32? {
        var others = Set<String>()
        for (position, member) in group.members.enumerated() where position != index {
            others.insert(hostKeys[member] ?? "node:\(member)")
        }
        return pick(avoidingHosts: others, excluding: Set(group.members))?.id
    }
}
