import RadonWire

/// Chooses the members of placement groups: n distinct nodes per group, never two on one host
/// (nodes that declare no host are hosts of their own), spread so that each node carries
/// groups in proportion to its free space. The one exception is `doubledReplacement`, for a
/// failed member when no other host is free; `HealingCoordinator.spreadDoubledGroups` undoes it
/// once a host is.
///
/// Greedy: for each member slot, the candidate with the lowest `(groups carried + 1) / free`
/// whose host the group does not use yet; among candidates within one group of the least
/// loaded, the one sharing the fewest groups with the members chosen so far (declustering, so a
/// failed node's groups are rebuilt by every node). Members are then rotated by the group's index, so
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
    /// Groups each pair of nodes shares (key: `pairKey`). Among equally loaded candidates the
    /// one sharing the fewest groups with the members already chosen wins, so a node's groups
    /// spread over every other node (declustering): when it fails, all nodes rebuild its
    /// groups in parallel. Without it, equal free space made the same n nodes form group after
    /// group (12 nodes, 4+2: two disjoint sets of 6).
    private(set) var shared: [UInt64: Int] = [:]

    init(nodes: [NodeInfo], existingGroups: [PlacementGroup]) {
        candidates = nodes.filter { $0.state == .up }.map {
            Candidate(id: $0.id, hostKey: $0.failureDomain, free: $0.free)
        }
        load = [:]
        for group in existingGroups {
            for member in group.members { load[member, default: 0] += 1 }
            addShared(group.members)
        }
    }

    static func pairKey(_ a: UInt32, _ b: UInt32) -> UInt64 {
        UInt64(min(a, b)) << 32 | UInt64(max(a, b))
    }

    private mutating func addShared(_ members: [UInt32]) {
        for (offset, a) in members.enumerated() {
            for b in members[(offset + 1)...] where a != b { shared[Self.pairKey(a, b), default: 0] += 1 }
        }
    }

    /// Groups `candidate` already shares with `members`, summed.
    private func overlap(_ candidate: UInt32, with members: [UInt32]) -> Int {
        members.reduce(0) { $0 + (shared[Self.pairKey(candidate, $1)] ?? 0) }
    }

    /// Like `pick`, but among the candidates within one group of the least loaded, the one
    /// sharing the fewest groups with `members`.
    private mutating func pickDeclustered(avoidingHosts usedHosts: Set<String>, excluding excluded: Set<UInt32>, alongside members: [UInt32]) -> Candidate? {
        let eligible = candidates.filter { !usedHosts.contains($0.hostKey) && !excluded.contains($0.id) }
        guard let least = eligible.min(by: { (score($0), $0.id) < (score($1), $1.id) }) else { return nil }
        let ceiling = Double(load[least.id, default: 0] + 2) / Double(max(least.free, 1))
        let best = eligible
            .filter { $0.id == least.id || score($0) < ceiling }
            .min { (overlap($0.id, with: members), score($0), $0.id) < (overlap($1.id, with: members), score($1), $1.id) }
        if let best { load[best.id, default: 0] += 1 }
        return best
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
            guard let next = pickDeclustered(avoidingHosts: Set(chosen.map(\.hostKey)), excluding: [], alongside: chosen.map(\.id)) else {
                return nil
            }
            chosen.append(next)
        }
        addShared(chosen.map(\.id))
        let shift = index % n
        return (chosen[shift...] + chosen[..<shift]).map(\.id)
    }

    /// A node to take fragment index `index` of `group` (for degraded-mode remapping and
    /// rebuild): on a host none of the other members use, and not a member already.
    mutating func replacement(for group: PlacementGroup, at index: Int, hostKeys: [UInt32: String]) -> UInt32? {
        var others = Set<String>()
        for (position, member) in group.members.enumerated() where position != index {
            others.insert(hostKeys[member] ?? NodeInfo.failureDomain(ofNode: member))
        }
        let survivors = group.members.enumerated().filter { $0.offset != index }.map(\.element)
        guard let chosen = pickDeclustered(avoidingHosts: others, excluding: Set(group.members), alongside: survivors) else { return nil }
        addShared(survivors + [chosen.id])
        return chosen.id
    }

    /// When `replacement` finds no spare: an up node to take position `index` although its host
    /// already holds another of the group's positions. Chosen so the group survives the most
    /// further host losses (`GroupProtection`), then the fewest positions on one host, then the
    /// least loaded. Nil unless it survives at least as many losses as leaving `index` empty:
    /// a doubled position adds a fragment (the group keeps more than k after most single
    /// losses) but must never lower the worst case (with m ≥ 3 it would).
    mutating func doubledReplacement(for group: PlacementGroup, at index: Int, k: Int) -> UInt32? {
        let upHosts = Dictionary(candidates.map { ($0.id, $0.hostKey) }, uniquingKeysWith: { first, _ in first })
        var holders = group.members.map { upHosts[$0] }
        holders[index] = nil
        let leftEmpty = GroupProtection.lossesSurvived(k: k, holders: holders)
        // Fewer than k fragments reachable: nothing to rebuild it from.
        guard leftEmpty >= 0 else { return nil }
        var best: (candidate: Candidate, rank: (Int, Int, Double))?
        for candidate in candidates where candidate.id != group.members[index] {
            var trial = holders
            trial[index] = candidate.hostKey
            let survived = GroupProtection.lossesSurvived(k: k, holders: trial)
            let onHost = holders.filter { $0 == candidate.hostKey }.count
            let rank = (-survived, onHost, score(candidate))
            if best.map({ rank < $0.rank }) ?? true { best = (candidate, rank) }
        }
        guard let best, -best.rank.0 >= leftEmpty else { return nil }
        load[best.candidate.id, default: 0] += 1
        return best.candidate.id
    }
}
