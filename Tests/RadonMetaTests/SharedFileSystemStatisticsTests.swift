import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// statfs counts each file system the storage nodes are on once: six daemons whose data
/// directories share one disk (the local cluster) have that disk's space, not six times it.
@Suite("Metadata store: statfs over shared file systems")
struct SharedFileSystemStatisticsTests {
    static let tebibyte: UInt64 = 1 << 40
    static let gibibyte: UInt64 = 1 << 30

    /// Registers one node per entry: its file system id (empty: none reported), capacity and free space.
    @discardableResult
    func register(_ fixture: StoreFixture, _ nodes: [(fileSystem: String, capacity: UInt64, free: UInt64)], firstIndex: Int = 0) async throws -> [UInt32] {
        var ids: [UInt32] = []
        for (offset, node) in nodes.enumerated() {
            let index = firstIndex + offset
            let acknowledgement = try await fixture.store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index),
                hostID: "failure-domain-\(index)", dataDirectory: "/disk/node-\(index)", pid: Int32(100 + index),
                capacity: node.capacity, free: node.free, fileSystemID: node.fileSystem))
            ids.append(acknowledgement.nodeID)
        }
        return ids
    }

    func expectBytes(_ blocks: UInt64, _ expected: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(Double(blocks) * 4096 - expected) < 2 * 4096, "\(what): \(Double(blocks) * 4096) bytes, expected \(expected)", sourceLocation: sourceLocation)
    }

    @Test(arguments: TestEngine.all) func nodesOnOneFileSystemCountItOnce(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        // Six daemons on one 1 TiB disk; their reports of free space differ by when they were taken.
        let frees: [UInt64] = [500, 501, 499, 500, 502, 500].map { $0 * Self.gibibyte }
        try await register(fixture, frees.map { (fileSystem: "machine-a fsid:1 dev:803", capacity: Self.tebibyte, free: $0) })
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let statistics = try await store.statistics()
        let usableTotal = Double(Self.tebibyte) * 4 / 6
        let usableFree = Double(502 * Self.gibibyte) * 4 / 6
        expectBytes(statistics.totalBlocks, usableTotal, "total: one disk, not six")
        expectBytes(statistics.freeBlocks, usableFree, "free: the largest report of the shared disk")
        expectBytes(statistics.availableBlocks, usableFree - usableTotal * 0.05, "one disk cannot be rebuilt elsewhere: 5% reserve")
    }

    @Test(arguments: TestEngine.all) func distinctFileSystemsAreSummedAndLostNodesSkipped(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        let nodes: [(fileSystem: String, capacity: UInt64, free: UInt64)] = [
            (fileSystem: "machine-a fsid:1 dev:803", capacity: Self.tebibyte, free: 400 * Self.gibibyte),
            (fileSystem: "machine-a fsid:1 dev:803", capacity: Self.tebibyte, free: 400 * Self.gibibyte),
            (fileSystem: "machine-a fsid:2 dev:804", capacity: 2 * Self.tebibyte, free: Self.tebibyte),
            (fileSystem: "machine-b fsid:1 dev:803", capacity: 3 * Self.tebibyte, free: 2 * Self.tebibyte),
            (fileSystem: "machine-b fsid:1 dev:803", capacity: 3 * Self.tebibyte, free: 2 * Self.tebibyte),
            // Daemons from before the field: a file system of their own each.
            (fileSystem: "", capacity: Self.tebibyte, free: Self.tebibyte),
            (fileSystem: "", capacity: Self.tebibyte, free: Self.tebibyte),
        ]
        let ids = try await register(fixture, nodes)
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let all = try await store.statistics()
        let rawTotal = Double(1 + 2 + 3 + 1 + 1) * Double(Self.tebibyte)
        let rawFree = Double(400 * Self.gibibyte) + Double(1 + 2 + 1 + 1) * Double(Self.tebibyte)
        expectBytes(all.totalBlocks, rawTotal * 4 / 6, "total over five distinct file systems")
        expectBytes(all.freeBlocks, rawFree * 4 / 6, "free over five distinct file systems")
        expectBytes(all.availableBlocks, (rawFree - rawTotal * 0.05) * 4 / 6, "five file systems for n = 6: 5% reserve")

        // The 2 TiB disk's only node goes lost while the others beat on: that disk no longer counts.
        let started = fixture.clock.now
        fixture.clock.advance(seconds: 120)
        for (id, node) in zip(ids, nodes) where id != ids[2] {
            _ = try await store.heartbeat(HeartbeatRequest(nodeID: id, capacity: node.capacity, free: node.free, fragmentCount: 0))
        }
        let transitions = try await store.sweepLiveness(now: fixture.clock.now, downAfter: 5, lostAfter: 60, notBefore: started)
        #expect(transitions.map(\.nodeID) == [ids[2]])
        #expect(transitions.first?.to == .lost)
        let withoutLost = try await store.statistics()
        expectBytes(withoutLost.totalBlocks, (rawTotal - 2 * Double(Self.tebibyte)) * 4 / 6, "the lost node's disk is left out")
    }

    @Test(arguments: TestEngine.all) func theReserveIsOneFileSystemWhenThereAreMoreThanN(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let store = fixture.store
        // Seven distinct disks for 4+2: a lost disk can be rebuilt onto the other six.
        try await register(fixture, (0..<7).map { (fileSystem: "machine-\($0) fsid:1 dev:803", capacity: Self.tebibyte * UInt64(1 + $0 % 2), free: Self.tebibyte) })
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let seven = try await store.statistics()
        expectBytes(seven.availableBlocks, (7 - 2) * Double(Self.tebibyte) * 4 / 6, "reserve: the largest disk (2 TiB) x k/n")

        // Eight daemons on two disks are not eight places to rebuild onto: 5% reserve.
        let shared = try await StoreFixture(engine)
        for index in 0..<8 {
            _ = try await shared.store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index),
                hostID: "failure-domain-\(index)", dataDirectory: "/disk/node-\(index)", pid: 1,
                capacity: Self.tebibyte, free: Self.tebibyte, fileSystemID: "machine-a fsid:\(index % 2) dev:803"))
        }
        _ = try await shared.store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 4))
        let two = try await shared.store.statistics()
        let usable = 2 * Double(Self.tebibyte) * 4 / 6
        expectBytes(two.totalBlocks, usable, "two disks")
        expectBytes(two.availableBlocks, usable * 0.95, "two disks for n = 6: 5% reserve")
    }

    /// A database made before the column existed opens, gains it, and counts its old nodes
    /// on their own until they register again with a file system id.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs the sqlite3 shell to make an old database"))
    func aDatabaseFromBeforeTheColumnKeepsWorking() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/meta.db"
        let clock = ManualClock()
        do {
            let store = try SQLMetadataStore(path: path, durability: .full, clock: { clock.now })
            for index in 0..<6 {
                _ = try await store.registerNode(RegisterNodeRequest(
                    uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index), hostID: "h\(index)",
                    dataDirectory: "/d\(index)", pid: 1, capacity: Self.tebibyte, free: Self.tebibyte, fileSystemID: "disk"))
            }
            _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, groupCount: 2))
        }
        // Undo the migration, as a database written by the previous version is.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = ["-cmd", ".timeout 10000", path, "ALTER TABLE node DROP COLUMN file_system; DELETE FROM grdb_migrations WHERE identifier = 'v2-node-file-system';"]
        try shell.run()
        shell.waitUntilExit()
        try #require(shell.terminationStatus == 0)

        let reopened = try SQLMetadataStore(path: path, durability: .full, clock: { clock.now })
        let old = try await reopened.statistics()
        expectBytes(old.totalBlocks, 6 * Double(Self.tebibyte) * 4 / 6, "old rows have no file system: each counts")
        #expect(try await reopened.nodes().count == 6)
        for index in 0..<6 {
            _ = try await reopened.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index), hostID: "h\(index)",
                dataDirectory: "/d\(index)", pid: 2, capacity: Self.tebibyte, free: Self.tebibyte, fileSystemID: "disk"))
        }
        expectBytes(try await reopened.statistics().totalBlocks, Double(Self.tebibyte) * 4 / 6, "registered again: one disk")
    }
}
