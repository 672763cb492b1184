import RadonWire

/// Moving group positions between nodes: spares for failed nodes, `node replace|remove`, and
/// the rebalance of `node add`. Every move bumps the map epoch and queues a rebuild job for
/// the group, so the new member is filled from the others.
extension HealingCoordinator {
    struct MoveOutcome {
        var moved = 0
        /// Groups that had no node to move to (no spare on a host the group does not use).
        var stuck = 0
    }

    /// Moves every position `nodeID` holds onto `replacement` (or the best spare per group).
    func moveAway(from nodeID: UInt32, to replacement: UInt32?, rate: UInt64, atomically: Bool) async throws -> MoveOutcome {
        let now = self.now
        return try await store.committer.write { db in
            try self.moveAway(from: nodeID, to: replacement, rate: rate, run: try db.nextHealingRun(), atomically: atomically, db: db, now: now)
        }
    }

    /// Within one transaction. With `atomically`, a group without a spare fails the whole
    /// move (`unavailable`) and nothing changes.
    func moveAway(
        from nodeID: UInt32, to replacement: UInt32?, rate: UInt64, run: UInt64, atomically: Bool, db: any SQLTransaction, now: Int64
    ) throws -> MoveOutcome {
        let nodes = try db.allNodes()
        let hostKeys = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, Self.hostKey(of: $0)) })
        let groups = try db.placementGroups(volumeID: nil)
        var planner = PlacementPlanner(nodes: nodes.filter { $0.id != nodeID }, existingGroups: groups)
        var outcome = MoveOutcome()
        var stuckGroups: [UInt32] = []
        for var group in groups {
            guard let index = group.members.firstIndex(of: nodeID) else { continue }
            let chosen: UInt32?
            if let replacement {
                let others = group.members.enumerated().filter { $0.offset != index }.map { hostKeys[$0.element] ?? "" }
                chosen = group.members.contains(replacement) || others.contains(hostKeys[replacement] ?? "") ? nil : replacement
            } else {
                chosen = planner.replacement(for: group, at: index, hostKeys: hostKeys)
            }
            guard let chosen else {
                outcome.stuck += 1
                stuckGroups.append(group.id)
                continue
            }
            group.members[index] = chosen
            group.epoch = try db.bumpMapEpoch()
            try db.updateMembers(of: group)
            try db.queueHealingJob(run: run, kind: .rebuild, group: group, targets: [UInt32(index)], rate: rate, now: now)
            outcome.moved += 1
        }
        if atomically, !stuckGroups.isEmpty {
            throw WireError(.unavailable, "no node can take node \(nodeID)'s place in groups \(stuckGroups.prefix(20).map(String.init).joined(separator: ", ")) (every candidate is down, already a member, or on a member's host)")
        }
        return outcome
    }

    static func hostKey(of node: NodeInfo) -> String {
        node.hostID.isEmpty ? "node:\(node.id)" : "host:\(node.hostID)"
    }

    /// `radonfs node add|replace|remove`.
    func nodeCommand(_ request: NodeCommandRequest) async throws -> HealingStatus {
        let now = self.now
        let run: UInt64 = try await store.committer.write { db in
            guard let node = try db.node(id: request.nodeID) else { throw WireError(.notFound, "no node \(request.nodeID)") }
            let run = try db.nextHealingRun()
            switch request.action {
            case .remove:
                _ = try self.moveAway(from: node.id, to: nil, rate: request.rateLimit, run: run, atomically: true, db: db, now: now)
            case .replace:
                var target: UInt32?
                if request.replacementID != 0 {
                    guard let replacement = try db.node(id: request.replacementID) else {
                        throw WireError(.notFound, "no node \(request.replacementID)")
                    }
                    guard replacement.state == .up else { throw WireError(.unavailable, "node \(replacement.id) is \(replacement.state)") }
                    target = replacement.id
                }
                _ = try self.moveAway(from: node.id, to: target, rate: request.rateLimit, run: run, atomically: true, db: db, now: now)
            case .add:
                guard node.state == .up else { throw WireError(.unavailable, "node \(node.id) is \(node.state); start it first") }
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
        let hostKeys = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, Self.hostKey(of: $0)) })
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
