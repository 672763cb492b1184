import Foundation
@testable import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// Healing with no spare host (issue 14): what a group survives, when a failed member's
/// position may double up on a host the group already uses, how a node that joins spreads it
/// out again, and what `status` then says. The coordinator over a real store, on both engines.
struct NoSparePlacementTests {
    @Test("losses survived: the fullest host goes first; too few fragments is -1")
    func lossesSurvived() {
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "b", "c", "d", "e", "f"]) == 2)
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "b", "c", "d", "e", nil]) == 1)
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "a", "c", "d", "e", "f"]) == 1)
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "a", "c", "c", "e", "f"]) == 1)
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "b", "c", "d", nil, nil]) == 0)
        #expect(GroupProtection.lossesSurvived(k: 4, holders: ["a", "b", "c", nil, nil, nil]) == -1)
        // 8+3 with one position missing survives 2; doubled up on a host it still survives 2
        // (and keeps 10 fragments after most single losses); tripled up, only 1.
        let eightPlusThree: [String?] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", nil]
        #expect(GroupProtection.lossesSurvived(k: 8, holders: eightPlusThree) == 2)
        #expect(GroupProtection.lossesSurvived(k: 8, holders: Array(eightPlusThree.dropLast()) + ["a"]) == 2)
        #expect(GroupProtection.lossesSurvived(k: 8, holders: ["a", "a", "a", "d", "e", "f", "g", "h", "i", "j", "k"]) == 1)
        #expect(GroupProtection.isDoubled(holders: ["a", nil, "a"]) && !GroupProtection.isDoubled(holders: ["a", nil, nil, "b"]))
    }

    static func store(_ engine: TestEngine, nodes: Int, k: UInt32, n: UInt32) async throws -> (SQLMetadataStore, String, [UInt32]) {
        let (store, path) = try await HealingCoordinatorTests.emptyStore(engine)
        var ids: [UInt32] = []
        for index in 0..<nodes { ids.append(try await register(index, in: store)) }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: k, n: n, blockSize: 65536, groupCount: 8))
        return (store, path, ids)
    }

    static func register(_ index: Int, in store: SQLMetadataStore) async throws -> UInt32 {
        try await store.registerNode(RegisterNodeRequest(
            uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
            dataDirectory: "/tmp/none", pid: 0, capacity: 1 << 40, free: 1 << 40)).nodeID
    }

    /// Marks `id` lost in the store and tells the coordinator, as the liveness sweep does.
    static func lose(_ id: UInt32, store: SQLMetadataStore, coordinator: HealingCoordinator) async throws {
        try await store.committer.write { db in try db.setNodeState(id, to: .lost, since: store.nowNanoseconds()) }
        await coordinator.nodeChanged(NodeStateTransition(nodeID: id, from: .up, to: .lost, at: Timestamp(seconds: 0, nanoseconds: 0)))
    }

    /// Every queued job, claimed and reported done by some up node.
    static func finishJobs(_ coordinator: HealingCoordinator, workers: [UInt32]) async throws {
        for worker in workers {
            while let job = try await coordinator.claim(for: worker) {
                _ = try await coordinator.saveProgress(HealingProgressRequest(nodeID: worker, job: job.finishing(.done, ""), finished: true))
            }
        }
    }

    @Test("4+2 on 6 nodes: a lost node's positions double up (surviving 1 more loss), and a node that joins spreads them out", arguments: TestEngine.all)
    func doublesUpThenSpreads(_ engine: TestEngine) async throws {
        let (store, path, ids) = try await Self.store(engine, nodes: 6, k: 4, n: 6)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"))
        let lost = ids[0]
        try await Self.lose(lost, store: store, coordinator: coordinator)

        let groups = try await store.groupMap(volumeID: 0).groups
        #expect(groups.allSatisfy { !$0.members.contains(lost) && $0.members.count == 6 })
        #expect(groups.allSatisfy { Set($0.members).count == 5 }, "every group should hold one position twice: \(groups.map(\.members))")
        let jobs = try await coordinator.status(runID: 0).jobs
        #expect(jobs.count == groups.count && jobs.allSatisfy { $0.kind == .rebuild && $0.targets.count == 1 })

        // While the doubled positions are rebuilt they hold nothing: 5 fragments, 1 more loss.
        let rebuilding = ClusterProtection(status: try await store.status(), healing: try await coordinator.status(runID: 0))
        #expect(rebuilding.volumes.first?.lossesSurvived == 1)
        #expect(rebuilding.volumes.first?.groupsHealing == groups.count)
        try await Self.finishJobs(coordinator, workers: Array(ids.dropFirst()))
        let doubled = ClusterProtection(status: try await store.status(), healing: try await coordinator.status(runID: 0))
        let volume = try #require(doubled.volumes.first)
        #expect(volume.lossesSurvived == 1 && volume.lossesSurvivedWhenHealthy == 2)
        #expect(volume.groupsDoubledUp == groups.count && volume.groupsDegraded == groups.count && volume.groupsUnavailable == 0)
        #expect(!doubled.isFullyProtected)
        #expect(doubled.advice.contains { $0.contains("two fragments on one host") }, "\(doubled.advice)")
        #expect(doubled.lines.contains { $0.contains("survives 1 more node loss now (2 when healthy)") }, "\(doubled.lines)")

        // Nothing to spread onto yet.
        let now = store.nowNanoseconds()
        #expect(try await store.committer.write { db in try coordinator.spreadDoubledGroups(rate: 0, run: try db.nextHealingRun(), db: db, now: now) } == 0)
        // A seventh node joins: each group's extra position moves onto it.
        let joined = try await Self.register(6, in: store)
        let moved = try await store.committer.write { db in try coordinator.spreadDoubledGroups(rate: 0, run: try db.nextHealingRun(), db: db, now: now) }
        #expect(moved == groups.count)
        let spread = try await store.groupMap(volumeID: 0).groups
        #expect(spread.allSatisfy { Set($0.members).count == 6 && $0.members.contains(joined) }, "\(spread.map(\.members))")
        try await Self.finishJobs(coordinator, workers: Array(ids.dropFirst()) + [joined])
        let healthy = ClusterProtection(status: try await store.status(), healing: try await coordinator.status(runID: 0))
        #expect(healthy.volumes.first?.lossesSurvived == 2)
        // The lost node is still registered but holds nothing: no advice about it.
        #expect(healthy.isFullyProtected && healthy.advice.isEmpty, "\(healthy.advice)")
    }

    @Test("three of 6 nodes lost at once under 4+2: nothing can be rebuilt, the positions wait, and status says the data is unreadable and why", arguments: TestEngine.all)
    func waitsWhenNothingCanBeRebuilt(_ engine: TestEngine) async throws {
        let (store, path, ids) = try await Self.store(engine, nodes: 6, k: 4, n: 6)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"))
        let before = try await store.groupMap(volumeID: 0).groups
        let lost = Array(ids.prefix(3))
        try await store.committer.write { db in
            for id in lost { try db.setNodeState(id, to: .lost, since: store.nowNanoseconds()) }
        }
        let outcome = try await coordinator.moveAway(from: lost[0], to: nil, rate: 0, withoutSpare: .doubleUp)
        #expect(outcome.moved == 0 && outcome.doubled == 0 && outcome.stuck == before.count)
        #expect(try await store.groupMap(volumeID: 0).groups == before)
        let protection = ClusterProtection(status: try await store.status(), healing: try await coordinator.status(runID: 0))
        #expect(protection.volumes.first?.lossesSurvived == -1 && protection.volumes.first?.groupsUnavailable == before.count)
        #expect(protection.advice.first?.contains("cannot be read") == true, "\(protection.advice)")
        #expect(lost.allSatisfy { id in protection.advice.contains { $0.contains("Node \(id) ") && $0.contains("is lost") } }, "\(protection.advice)")
        #expect(protection.lines.contains { $0.contains("SOME DATA UNREADABLE NOW") })
    }
}
