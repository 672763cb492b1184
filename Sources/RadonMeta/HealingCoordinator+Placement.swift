import RadonWire

/// Moving group positions between nodes: spares for failed nodes, `node replace|remove`, and
/// the rebalance of `node add`. Every move bumps the map epoch and queues a rebuild job for
/// the group, so the new member is filled from the others.
extension HealingCoordinator {
    struct MoveOutcome {
        var moved = 0
        /// Of `moved`, positions given to a node whose host already holds another of the group's
        /// positions, as no other host was free (`PlacementPlanner.doubledReplacement`).
        var doubled = 0
        /// Groups that had no node to move to (no spare on a host the group does not use, and
        /// doubling up would have lowered what the group survives).
        var stuck = 0
    }

    /// What `moveAway` does with a position for which no up node on a free host exists.
    enum WithoutSpare {
        /// Fail the whole move and change nothing: an operator's `node remove|replace`.
        case refuse
        /// Leave the position with its node: a node only down will most likely come back, and
        /// doubling up would rebuild its share twice (away, then back) for no gain in the worst
        /// case (`GroupProtection`: one doubled position survives as many losses as none).
        case wait
        /// Give it to a node whose host already holds a position of the group, when that never
        /// lowers what the group survives (`PlacementPlanner.doubledReplacement`): a lost node,
        /// or an operator's `rebuild`.
        case doubleUp
    }

    /// Moves every position `nodeID` holds onto `replacement` (or the best spare per group).
    func moveAway(from nodeID: UInt32, to replacement: UInt32?, rate: UInt64, withoutSpare: WithoutSpare) async throws -> MoveOutcome {
        let now = self.now
        return try await store.committer.write { db in
            try self.moveAway(from: nodeID, to: replacement, rate: rate, run: try db.nextHealingRun(), withoutSpare: withoutSpare, db: db, now: now)
        }
    }

    /// Within one transaction; see `WithoutSpare` for a position no free host can take.
    func moveAway(
        from nodeID: UInt32, to replacement: UInt32?, rate: UInt64, run: UInt64, withoutSpare: WithoutSpare, db: any SQLTransaction, now: Int64
    ) throws -> MoveOutcome {
        let nodes = try db.allNodes()
        let hostKeys = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.failureDomain) })
        let groups = try db.placementGroups(volumeID: nil)
        let dataFragments = Dictionary(uniqueKeysWithValues: try db.allVolumes().map { ($0.id, Int($0.k)) })
        var planner = PlacementPlanner(nodes: nodes.filter { $0.id != nodeID }, existingGroups: groups)
        var outcome = MoveOutcome()
        var stuckGroups: [UInt32] = []
        for var group in groups {
            // A node that doubled up holds two positions of the group: move both.
            let positions = group.members.indices.filter { group.members[$0] == nodeID }
            guard !positions.isEmpty else { continue }
            var targets: [UInt32] = []
            for index in positions {
                var chosen: UInt32?
                if let replacement {
                    let others = group.members.enumerated().filter { $0.offset != index }.map { hostKeys[$0.element] ?? "" }
                    chosen = group.members.contains(replacement) || others.contains(hostKeys[replacement] ?? "") ? nil : replacement
                } else {
                    chosen = planner.replacement(for: group, at: index, hostKeys: hostKeys)
                    if chosen == nil, withoutSpare == .doubleUp, let k = dataFragments[group.volumeID] {
                        chosen = planner.doubledReplacement(for: group, at: index, k: k)
                        if chosen != nil { outcome.doubled += 1 }
                    }
                }
                guard let chosen else { continue }
                group.members[index] = chosen
                targets.append(UInt32(index))
            }
            if targets.count < positions.count { stuckGroups.append(group.id) }
            guard !targets.isEmpty else { continue }
            group.epoch = try db.bumpMapEpoch()
            try db.updateMembers(of: group)
            try db.queueHealingJob(run: run, kind: .rebuild, group: group, targets: targets, rate: rate, now: now)
            outcome.moved += targets.count
        }
        outcome.stuck = stuckGroups.count
        if withoutSpare == .refuse, !stuckGroups.isEmpty {
            throw WireError(.unavailable, "no node can take node \(nodeID)'s place in groups \(stuckGroups.prefix(20).map(String.init).joined(separator: ", ")) (every candidate is down, already a member, or on a member's host)")
        }
        return outcome
    }

    /// Moves the extra positions of groups that doubled up on a host (see `doubledReplacement`)
    /// to up nodes on hosts the group does not use, so a node that came back or was added
    /// restores full protection. Returns the positions moved.
    func spreadDoubledGroups(rate: UInt64, run: UInt64, db: any SQLTransaction, now: Int64) throws -> Int {
        let nodes = try db.allNodes()
        let hostKeys = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.failureDomain) })
        let groups = try db.placementGroups(volumeID: nil)
        let doubled = groups.filter { group in GroupProtection.isDoubled(holders: group.members.map { hostKeys[$0] ?? NodeInfo.failureDomain(ofNode: $0) }) }
        guard !doubled.isEmpty else { return 0 }
        let busy = Set(try db.healingJobs(where: "state IN (0, 1) AND kind != 3").map(\.groupID))
        var planner = PlacementPlanner(nodes: nodes, existingGroups: groups)
        var moved = 0
        // A group still being rebuilt waits: moving a position whose fragments are not written
        // yet would rebuild from fewer sources than the job it replaces.
        for var group in doubled where !busy.contains(group.id) {
            var seen = Set<String>()
            var targets: [UInt32] = []
            for index in group.members.indices {
                let host = hostKeys[group.members[index]] ?? NodeInfo.failureDomain(ofNode: group.members[index])
                // The host's first position stays; a second one moves.
                if seen.insert(host).inserted { continue }
                guard let chosen = planner.replacement(for: group, at: index, hostKeys: hostKeys) else { continue }
                group.members[index] = chosen
                seen.insert(hostKeys[chosen] ?? NodeInfo.failureDomain(ofNode: chosen))
                targets.append(UInt32(index))
            }
            guard !targets.isEmpty else { continue }
            group.epoch = try db.bumpMapEpoch()
            try db.updateMembers(of: group)
            try db.queueHealingJob(run: run, kind: .rebuild, group: group, targets: targets, rate: rate, now: now)
            moved += targets.count
        }
        return moved
    }

    /// `radonfs node add|replace|remove`.
    func nodeCommand(_ request: NodeCommandRequest) async throws -> HealingStatus {
        let now = self.now
        let run: UInt64 = try await store.committer.write { db in
            guard let node = try db.node(id: request.nodeID) else { throw WireError(.notFound, "no node \(request.nodeID)") }
            let run = try db.nextHealingRun()
            switch request.action {
            case .remove:
                _ = try self.moveAway(from: node.id, to: nil, rate: request.rateLimit, run: run, withoutSpare: .refuse, db: db, now: now)
            case .replace:
                var target: UInt32?
                if request.replacementID != 0 {
                    guard let replacement = try db.node(id: request.replacementID) else {
                        throw WireError(.notFound, "no node \(request.replacementID)")
                    }
                    guard replacement.state == .up else { throw WireError(.unavailable, "node \(replacement.id) is \(replacement.state)") }
                    target = replacement.id
                }
                _ = try self.moveAway(from: node.id, to: target, rate: request.rateLimit, run: run, withoutSpare: .refuse, db: db, now: now)
            case .add:
                guard node.state == .up else { throw WireError(.unavailable, "node \(node.id) is \(node.state); start it first") }
                _ = try self.spreadDoubledGroups(rate: request.rateLimit, run: run, db: db, now: now)
                try self.rebalance(onto: node, rate: request.rateLimit, run: run, db: db, now: now)
            }
            return run
        }
        return try await status(runID: run)
    }

    /// Moves positions from the most loaded up nodes onto `node` until it carries its share
    /// (total positions / up nodes), never two positions of a group on one host.
    func rebalance(onto node: NodeInfo, rate: UInt64, run: UInt64, db: any SQLTransaction, now: Int64) throws {
        let nodes = try db.allNodes()
        let upNodes = nodes.filter { $0.state == .up }
        let hostKeys = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.failureDomain) })
        var groups = try db.placementGroups(volumeID: nil)
        var load: [UInt32: Int] = [:]
        for group in groups { for member in group.members { load[member, default: 0] += 1 } }
        let share = groups.reduce(0) { $0 + $1.members.count } / max(upNodes.count, 1)
        let newHost = hostKeys[node.id] ?? ""
        while load[node.id, default: 0] < share {
            // The group position whose member is the most loaded and can give it up.
            var best: (group: Int, index: Int, load: Int)?
            for (groupOffset, group) in groups.enumerated() where !group.members.contains(node.id) {
                for (index, member) in group.members.enumerated() {
                    let others = group.members.enumerated().filter { $0.offset != index }.map { hostKeys[$0.element] ?? "" }
                    guard !others.contains(newHost) else { continue }
                    let memberLoad = load[member, default: 0]
                    if memberLoad > share, memberLoad > (best?.load ?? 0) { best = (groupOffset, index, memberLoad) }
                }
            }
            guard let best else { break }
            var group = groups[best.group]
            load[group.members[best.index], default: 0] -= 1
            load[node.id, default: 0] += 1
            group.members[best.index] = node.id
            group.epoch = try db.bumpMapEpoch()
            try db.updateMembers(of: group)
            try db.queueHealingJob(run: run, kind: .rebuild, group: group, targets: [UInt32(best.index)], rate: rate, now: now)
            groups[best.group] = group
        }
    }
}
