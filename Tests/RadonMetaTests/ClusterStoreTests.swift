import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Metadata store: nodes, volumes and placement")
struct ClusterStoreTests {
    let root = StoreFixture.rootInode

    @Test(arguments: TestEngine.all) func reregistrationKeepsTheNodeID(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(3)
        #expect(ids == [1, 2, 3])
        let again = try await store.registerNode(RegisterNodeRequest(
            uuid: "node-1", address: WireAddress(host: "127.0.0.1", port: 9999), hostID: "", dataDirectory: "/data/1",
            pid: 4242, capacity: 1 << 40, free: 1 << 39))
        #expect(again.nodeID == ids[1])
        let node = try #require(try await store.nodes().first { $0.id == ids[1] })
        #expect(node.address.port == 9999, "a restarted daemon may come back on a new port")
        #expect(node.pid == 4242)
        await expectStatus(.notFound) { _ = try await store.heartbeat(HeartbeatRequest(nodeID: 77, capacity: 1, free: 1, fragmentCount: 0)) }
    }

    @Test(arguments: TestEngine.all) func livenessMovesThroughDownAndLostAndBack(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(2)
        let started = fixture.clock.now
        func sweep() async throws -> [NodeStateTransition] {
            try await store.sweepLiveness(now: fixture.clock.now, downAfter: 5, lostAfter: 60, notBefore: started)
        }
        fixture.clock.advance(seconds: 3)
        #expect(try await sweep().isEmpty)
        _ = try await store.heartbeat(HeartbeatRequest(nodeID: ids[0], capacity: 1 << 40, free: 1 << 39, fragmentCount: 7))
        fixture.clock.advance(seconds: 3)
        let down = try await sweep()
        #expect(down.map(\.nodeID) == [ids[1]])
        #expect(down.first?.to == .down)
        let nodes = try await store.nodes()
        #expect(nodes[0].state == .up)
        #expect(nodes[0].fragmentCount == 7)
        #expect(nodes[1].state == .down)
        #expect(nodes[1].since.seconds == started.seconds + 5, "since is when the silence crossed --down-after")

        fixture.clock.advance(seconds: 60)
        let lost = try await sweep()
        #expect(Set(lost.map(\.to)) == [.lost])
        #expect(Set(lost.map(\.nodeID)) == Set(ids))
        #expect(try await sweep().isEmpty, "a lost node stays lost until it speaks")

        let back = try await store.heartbeat(HeartbeatRequest(nodeID: ids[1], capacity: 1 << 40, free: 1 << 39, fragmentCount: 0))
        #expect(back.previousState == .lost)
        let revived = try #require(try await store.nodes().first { $0.id == ids[1] })
        #expect(revived.state == .up)
        #expect(revived.since == fixture.clock.now)
    }

    @Test(arguments: TestEngine.all) func aRestartedServiceDoesNotCountItsOwnDowntime(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(1)
        fixture.clock.advance(seconds: 1000)
        let restartedAt = fixture.clock.now
        fixture.clock.advance(seconds: 2)
        #expect(try await store.sweepLiveness(now: fixture.clock.now, downAfter: 5, lostAfter: 60, notBefore: restartedAt).isEmpty)
        fixture.clock.advance(seconds: 4)
        let transitions = try await store.sweepLiveness(now: fixture.clock.now, downAfter: 5, lostAfter: 60, notBefore: restartedAt)
        #expect(transitions.map(\.nodeID) == ids)
        #expect(transitions.first?.to == .down)
    }

    @Test(arguments: TestEngine.all) func volumeNeedsNDistinctHosts(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6, hosts: ["a", "a", "b", "b", "c", "c"])
        await expectStatus(.unavailable) { _ = try await store.createVolume(VolumeSpecification(name: "v", k: 2, n: 4, groupCount: 8)) }
        let volume = try await store.createVolume(VolumeSpecification(name: "v", k: 2, n: 3, groupCount: 8))
        let map = try await store.groupMap(volumeID: 0)
        let nodes = try await store.nodes()
        let hostOf = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.hostID) })
        #expect(map.volume == volume)
        #expect(map.groups.count == 8)
        for group in map.groups {
            #expect(group.members.count == 3)
            #expect(Set(group.members.map { hostOf[$0]! }).count == 3, "group \(group.id) spans three hosts")
        }
    }

    @Test(arguments: TestEngine.all) func placementSpreadsGroupsEvenlyAndRotatesDataSlots(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(9)
        let volume = try await store.createVolume(VolumeSpecification(name: "main", k: 4, n: 6, groupCount: 63))
        #expect(volume.isDefault)
        let map = try await store.groupMap(volumeID: volume.id)
        var load: [UInt32: Int] = [:]
        var dataSlots: [UInt32: Int] = [:]
        for group in map.groups {
            #expect(Set(group.members).count == 6)
            for (index, member) in group.members.enumerated() {
                load[member, default: 0] += 1
                if index < 4 { dataSlots[member, default: 0] += 1 }
            }
        }
        #expect(load.count == ids.count)
        let counts = load.values
        #expect(counts.max()! - counts.min()! <= 1, "63 groups x 6 members over 9 equal nodes: 42 each")
        #expect(dataSlots.values.min()! > 0, "every node holds data fragments somewhere")
        #expect(Set(map.nodes.map(\.id)) == Set(ids))
    }

    @Test(arguments: TestEngine.all) func volumeSettingsAreValidated(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        try await fixture.registerNodes(6)
        await expectStatus(.invalidArgument) { _ = try await store.createVolume(VolumeSpecification(name: "x", codec: "zip")) }
        await expectStatus(.invalidArgument) { _ = try await store.createVolume(VolumeSpecification(name: "x", k: 4, n: 4)) }
        await expectStatus(.invalidArgument) { _ = try await store.createVolume(VolumeSpecification(name: "x", k: 3, n: 5, blockSize: 1 << 20)) }
        await expectStatus(.invalidArgument) { _ = try await store.createVolume(VolumeSpecification(name: "x", inlineThreshold: 1 << 20)) }
        _ = try await store.createVolume(VolumeSpecification(name: "x", codec: "rs"))
        await expectStatus(.exists) { _ = try await store.createVolume(VolumeSpecification(name: "x")) }
        let second = try await store.createVolume(VolumeSpecification(name: "y", codec: "mojette", k: 2, n: 3))
        #expect(!second.isDefault)
        #expect(try await store.volumes().map(\.name) == ["x", "y"])
    }

    @Test(arguments: TestEngine.all) func replaceMemberMakesANewEpochAndKeepsHostsApart(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(8, hosts: ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "h0"])
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let before = try await store.groupMap(volumeID: 0)
        let group = before.groups[0]
        let hostOf = Dictionary(uniqueKeysWithValues: try await store.nodes().map { ($0.id, $0.hostID) })
        let index: UInt32 = 0
        let otherHosts = Set(group.members.dropFirst().map { hostOf[$0]! })
        let outsider = try #require(ids.first { !group.members.contains($0) && !otherHosts.contains(hostOf[$0]!) })
        let replaced = try await store.replaceMember(ReplaceMemberRequest(groupID: group.id, index: index, nodeID: outsider))
        #expect(replaced.members[Int(index)] == outsider)
        #expect(replaced.epoch > before.epoch)
        let after = try await store.groupMap(volumeID: 0)
        #expect(after.epoch == replaced.epoch)
        #expect(after.groups[0] == replaced)
        #expect(after.groups[1] == before.groups[1], "other groups are untouched")

        await expectStatus(.exists) {
            _ = try await store.replaceMember(ReplaceMemberRequest(groupID: group.id, index: index, nodeID: replaced.members[(Int(index) + 1) % 6]))
        }
        await expectStatus(.notFound) { _ = try await store.replaceMember(ReplaceMemberRequest(groupID: 999, index: 0, nodeID: ids[0])) }
        await expectStatus(.invalidArgument) { _ = try await store.replaceMember(ReplaceMemberRequest(groupID: group.id, index: 6, nodeID: ids[0])) }
    }

    @Test(arguments: TestEngine.all) func replaceMemberRefusesASecondFragmentOnOneHost(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        // Two nodes on host "shared": a group holding one may not take the other.
        let ids = try await fixture.registerNodes(7, hosts: ["shared", "h1", "h2", "h3", "h4", "h5", "shared"])
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 1))
        let group = try await store.groupMap(volumeID: 0).groups[0]
        let sharedMember = try #require(group.members.first { $0 == ids[0] || $0 == ids[6] })
        let sharedSpare = sharedMember == ids[0] ? ids[6] : ids[0]
        let otherIndex = UInt32(group.members.firstIndex { $0 != sharedMember }!)
        await expectStatus(.invalidArgument) {
            _ = try await store.replaceMember(ReplaceMemberRequest(groupID: group.id, index: otherIndex, nodeID: sharedSpare))
        }
        let sameSlot = UInt32(group.members.firstIndex(of: sharedMember)!)
        let moved = try await store.replaceMember(ReplaceMemberRequest(groupID: group.id, index: sameSlot, nodeID: sharedSpare))
        #expect(moved.members[Int(sameSlot)] == sharedSpare, "replacing the member on that host itself is fine")
    }

    @Test(arguments: TestEngine.all) func statisticsReportUsableSpace(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        // 6 nodes of 1 TiB, half free, 4+2: usable = raw x 4/6, reserve 5% (no spare node).
        try await fixture.registerNodes(6, free: 1 << 39)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let statistics = try await store.statistics()
        let usableTotal = Double(6 << 40) * 4 / 6
        let usableFree = Double(6 << 39) * 4 / 6
        #expect(statistics.blockSize == 4096)
        #expect(abs(Double(statistics.totalBlocks) * 4096 - usableTotal) < 4096)
        #expect(abs(Double(statistics.freeBlocks) * 4096 - usableFree) < 4096)
        #expect(abs(Double(statistics.availableBlocks) * 4096 - (usableFree - usableTotal * 0.05)) < 4096)
        #expect(statistics.maximumNameLength == 255)

        // A seventh node: the reserve becomes one node's worth of usable space.
        _ = try await store.registerNode(RegisterNodeRequest(uuid: "extra", address: WireAddress(host: "127.0.0.1", port: 9100), hostID: "", dataDirectory: "/x", pid: 1, capacity: 1 << 40, free: 1 << 40))
        let grown = try await store.statistics()
        let free7 = (Double(6 << 39) + Double(1 << 40)) * 4 / 6
        #expect(abs(Double(grown.availableBlocks) * 4096 - (free7 - Double(1 << 40) * 4 / 6)) < 4096)
    }

    @Test(arguments: TestEngine.all) func statusListsEverything(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let ids = try await fixture.registerNodes(6)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 5))
        try await fixture.createFile("f", in: root)
        let status = try await store.status()
        #expect(status.nodes.map(\.id) == ids)
        #expect(status.groups.count == 5)
        #expect(status.volumes.map(\.name) == ["v"])
        #expect(status.mapEpoch >= 1)
        #expect(status.inodeCount == 2)
        #expect(status.nodes.allSatisfy { $0.state == .up && $0.pid > 0 })
    }
}
