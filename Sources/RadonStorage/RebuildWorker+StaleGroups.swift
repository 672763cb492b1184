import Foundation
import Logging
import RadonWire

/// Deleting the fragments a node keeps of groups it no longer belongs to.
///
/// When a group position moves away (`node replace|remove`, a spare took a down or lost node's
/// place, `node add` rebalanced), the old member's fragment files of that group are never read
/// again (clients and healers ask the current members only) but would fill its disk. The worker
/// deletes them once the node has been out of the group, at the same map epoch, for a grace
/// period (clients re-read a moved group's members within seconds) and no healing job of the
/// group is pending. A group the service does not know at all is never touched. Deleting them
/// also means a node can never serve such stale fragments, even to a client with a very old map.
extension RebuildWorker {
    /// Groups seen held here but not ours: the epoch they had and when first seen so.
    typealias StaleCandidates = [UInt32: (epoch: UInt64, since: ContinuousClock.Instant)]

    /// One sweep: returns the fragment files deleted. `candidates` carries what earlier sweeps saw.
    func sweepStaleGroups(nodeID: UInt32, own address: WireAddress, candidates: inout StaleCandidates) async throws -> Int {
        let meta = metaClient
        let storage = StorageClient(connection: try await pool.connection(to: address), timeout: .seconds(30))
        let held = try await storage.listGroups()
        guard !held.isEmpty else {
            candidates = [:]
            return 0
        }
        let cluster = try await meta.status()
        let groups = Dictionary(cluster.groups.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // A volume without groups yet (being created): nothing here can be judged stale.
        guard !groups.isEmpty else { return 0 }
        var stale = StaleCandidates()
        for group in held {
            // A group the service does not know at all is kept: that is a lost or foreign
            // metadata database, not a move, and these fragments may be all that is left.
            guard let placement = groups[group], !placement.members.contains(nodeID) else { continue }
            let epoch = placement.epoch
            if let seen = candidates[group], seen.epoch == epoch { stale[group] = seen } else { stale[group] = (epoch, .now) }
        }
        candidates = stale
        let due = stale.filter { ContinuousClock.now - $0.value.since >= staleGrace }.keys.sorted()
        guard !due.isEmpty else { return 0 }
        let busy = Set(try await meta.healingStatus().jobs.filter { !$0.state.isFinished }.map(\.groupID))
        var deleted = 0
        for group in due where !busy.contains(group) {
            // Judge again on the newest map: the group may have moved back meanwhile.
            let now = try await meta.status().groups.first { $0.id == group }
            guard let now, !now.members.contains(nodeID), now.epoch == stale[group]?.epoch else {
                candidates[group] = nil
                continue
            }
            var files = 0
            for file in try await storage.listFiles(group: group) {
                files += Int(try await storage.deleteFile(group: group, inode: file.inode))
            }
            deleted += files
            candidates[group] = nil
            logger.notice("deleted the fragments of a group this node no longer belongs to", metadata: [
                "group": "\(group)", "node": "\(nodeID)", "files": "\(files)",
            ])
        }
        return deleted
    }

    /// How long a node must be out of a group before its fragments there are deleted:
    /// `RADONFS_STALE_GRACE` seconds in the environment, else 60.
    static func staleGraceFromEnvironment() -> Duration {
        let seconds = ProcessInfo.processInfo.environment["RADONFS_STALE_GRACE"].flatMap(Double.init) ?? 60
        return .milliseconds(Int(max(0, seconds) * 1000))
    }
}
