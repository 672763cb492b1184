import Foundation
@testable import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// The coordinator over a real store (SQLite, and PostgreSQL on the test server), without
/// daemons: remap on failure, job hand-over after a silent worker (resuming at its cursor), and
/// a stale worker told to stop.
struct HealingCoordinatorTests {
    /// An empty store on `engine`, and the SQLite file to remove afterwards (empty for PostgreSQL).
    static func emptyStore(_ engine: TestEngine) async throws -> (SQLMetadataStore, String) {
        switch engine {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("heal-\(UUID().uuidString.prefix(8)).db").path
            return (try SQLMetadataStore(path: path), path)
        case .postgres:
            let url = try await PostgresTestServer.freshDatabase()
            return (SQLMetadataStore(engine: try await PostgresEngine.connect(url: url, logger: PostgresTestServer.quietLogger)), "")
        }
    }

    static func store(_ engine: TestEngine, nodes: Int) async throws -> (SQLMetadataStore, String) {
        let (store, path) = try await emptyStore(engine)
        for index in 0..<nodes {
            _ = try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
                dataDirectory: "/tmp/none", pid: 0, capacity: 1 << 40, free: 1 << 40))
        }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 65536, groupCount: 8))
        return (store, path)
    }

    @Test("a down node's positions go to spares, and a silent worker's job resumes elsewhere at its cursor", arguments: TestEngine.all)
    func remapAndHandOver(_ engine: TestEngine) async throws {
        let (store, path) = try await Self.store(engine, nodes: 7)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"), settings: HealingSettings(leaseSeconds: 0.05))
        let before = try await store.groupMap(volumeID: 0)
        let failed = try #require(before.groups.first?.members.first)
        let affected = before.groups.filter { $0.members.contains(failed) }.count

        await coordinator.nodeChanged(NodeStateTransition(nodeID: failed, from: .up, to: .down, at: Timestamp(seconds: 0, nanoseconds: 0)))
        let after = try await store.groupMap(volumeID: 0)
        #expect(after.groups.allSatisfy { !$0.members.contains(failed) })
        #expect(after.epoch > before.epoch)
        #expect(after.groups.allSatisfy { Set($0.members).count == 6 })
        let queued = try await coordinator.status(runID: 0).jobs
        #expect(queued.count == affected && queued.allSatisfy { $0.kind == .rebuild && $0.targets.count == 1 })

        // Worker A takes a job and reports part of it; then goes silent past the lease.
        let workers = after.nodes.map(\.id).filter { $0 != failed }
        var job = try #require(try await coordinator.claim(for: workers[0]))
        job.cursorInode = 42
        job.filesDone = 3
        #expect(try await coordinator.saveProgress(HealingProgressRequest(nodeID: workers[0], job: job, finished: false)).keepGoing)
        try await Task.sleep(for: .milliseconds(200))
        var resumed: HealingJob?
        for worker in workers.dropFirst() {
            // Take every other queued job until the silent worker's one comes up.
            while let next = try await coordinator.claim(for: worker) {
                if next.id == job.id { resumed = next; break }
                _ = try await coordinator.saveProgress(HealingProgressRequest(nodeID: worker, job: next.finishing(.done, ""), finished: true))
            }
            if resumed != nil { break }
        }
        let taken = try #require(resumed)
        #expect(taken.cursorInode == 42 && taken.filesDone == 3)
        #expect(taken.workerNodeID != workers[0])
        // The old worker, if it wakes up, is told to stop.
        #expect(try await coordinator.saveProgress(HealingProgressRequest(nodeID: workers[0], job: job, finished: false)).keepGoing == false)
    }

    @Test("node remove fails without change when some group has no spare", arguments: TestEngine.all)
    func removeWithoutSpare(_ engine: TestEngine) async throws {
        let (store, path) = try await Self.store(engine, nodes: 6)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"))
        let before = try await store.groupMap(volumeID: 0)
        await #expect(throws: WireError.self) {
            _ = try await coordinator.nodeCommand(NodeCommandRequest(action: .remove, nodeID: before.groups[0].members[0]))
        }
        #expect(try await store.groupMap(volumeID: 0).groups == before.groups)
    }

    @Test("groups are declustered: on 12 nodes every node shares groups with most others, so a lost node's groups are rebuilt by all", arguments: TestEngine.all)
    func placementIsDeclustered(_ engine: TestEngine) async throws {
        let (store, path) = try await Self.emptyStore(engine)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for index in 0..<12 {
            // Equal free space: the case that used to form the same two sets of 6 over and over.
            _ = try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
                dataDirectory: "/tmp/none", pid: 0, capacity: 1 << 40, free: 1 << 40))
        }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 65536, groupCount: 64))
        let map = try await store.groupMap(volumeID: 0)
        var peers: [UInt32: Set<UInt32>] = [:]
        var load: [UInt32: Int] = [:]
        for group in map.groups {
            for member in group.members {
                load[member, default: 0] += 1
                peers[member, default: []].formUnion(group.members.filter { $0 != member })
            }
        }
        #expect(Set(map.groups.map { Set($0.members) }).count > 16, "only \(Set(map.groups.map { Set($0.members) }).count) distinct member sets")
        #expect(peers.values.allSatisfy { $0.count >= 10 }, "peers per node: \(peers.mapValues(\.count))")
        #expect((load.values.max() ?? 0) - (load.values.min() ?? 0) <= 2, "loads \(load)")

        // A removed node's positions go to many different spares, not one.
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"))
        let removed = try #require(map.groups.first?.members.first)
        _ = try await coordinator.nodeCommand(NodeCommandRequest(action: .remove, nodeID: removed))
        let after = try await store.groupMap(volumeID: 0)
        var spares: [UInt32: Int] = [:]
        for (old, new) in zip(map.groups, after.groups) where old.members.contains(removed) {
            let index = try #require(old.members.firstIndex(of: removed))
            spares[new.members[index], default: 0] += 1
        }
        #expect(spares.count >= 8, "the removed node's positions went to \(spares)")
    }

    @Test("a daemon that registers again under a new pid, never marked down, gets its groups resynchronised", arguments: TestEngine.all)
    func restartedDaemonIsResynchronised(_ engine: TestEngine) async throws {
        let (store, path) = try await Self.emptyStore(engine)
        defer { try? FileManager.default.removeItem(atPath: path) }
        func register(_ index: Int, pid: Int32) async throws -> UInt32 {
            try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
                dataDirectory: "/tmp/none", pid: pid, capacity: 1 << 40, free: 1 << 40)).nodeID
        }
        var ids: [UInt32] = []
        for index in 0..<7 { ids.append(try await register(index, pid: 1_000 + Int32(index))) }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 65536, groupCount: 8))
        let coordinator = try HealingCoordinator(store: store, logger: .init(label: "test"))
        let maintenance = Task { await coordinator.runMaintenance() }
        defer { maintenance.cancel() }
        // The first pass sees every pid; nothing to do.
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(try await coordinator.status(runID: 0).jobs.isEmpty)

        _ = try await register(3, pid: 9_999)
        let member = try await store.groupMap(volumeID: 0).groups.filter { $0.members.contains(ids[3]) }
        var resyncs: [HealingJob] = []
        for _ in 0..<60 where resyncs.count < member.count {
            try await Task.sleep(for: .milliseconds(250))
            resyncs = try await coordinator.status(runID: 0).jobs.filter { $0.kind == .resync }
        }
        #expect(resyncs.count == member.count, "resync jobs \(resyncs.count) for the \(member.count) groups of the restarted node")
        #expect(Set(resyncs.map(\.groupID)) == Set(member.map(\.id)))
    }
}
