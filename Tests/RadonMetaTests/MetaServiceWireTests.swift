import Foundation
import Logging
import NIOCore
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// A metadata service on a real loopback `WireServer`, and a `MetaClient` connected to it.
final class ServiceFixture: Sendable {
    let store: StoreFixture
    let service: MetaService
    let server: WireServer
    let key: ClusterKey
    let connection: WireConnection
    let client: MetaClient

    init(engine: TestEngine = .sqlite, durability: SQLiteEngine.Durability = .full) async throws {
        store = try await StoreFixture(engine, durability: durability)
        let key = ClusterKey.generate()
        self.key = key
        var logger = Logger(label: "test.meta")
        logger.logLevel = .warning
        let service = MetaService(store: store.store, logger: logger)
        self.service = service
        server = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: logger) { request in
            await service.handle(request)
        }
        connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        client = MetaClient(connection: connection)
    }

    func close() async {
        connection.close()
        try? await server.close()
    }
}

/// Runs `body` against a fresh service and closes it afterwards, failure or not, so no server
/// or temporary database outlives the test.
func withServiceFixture(
    engine: TestEngine = .sqlite, durability: SQLiteEngine.Durability = .full, _ body: (ServiceFixture) async throws -> Void
) async throws {
    let fixture = try await ServiceFixture(engine: engine, durability: durability)
    do {
        try await body(fixture)
    } catch {
        await fixture.close()
        throw error
    }
    await fixture.close()
}

@Suite("Metadata service over the wire")
struct MetaServiceWireTests {
    let root = StoreFixture.rootInode

    /// A create that asks to open the file opens it only for a session the service knows; for
    /// one it does not (it took over from another server, or the session lapsed) the create
    /// still happens and the client is left to `openFile`, which renews its session.
    @Test func aCreateOpensOnlyForALiveSession() async throws {
        try await withServiceFixture { fixture in
            let client = fixture.client
            try await fixture.store.registerNodes(6)
            _ = try await fixture.store.store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 20, inlineThreshold: 4096, groupCount: 8))
            let session = try await client.openSession(clientName: "test").session
            let opened = try await client.create(parent: root, name: "opened", permissions: 0o644, exclusive: true, caller: .root, openSession: session)
            #expect(opened.open?.layout?.inode == opened.attributes.inode)
            #expect(fixture.store.store.openFiles.isOpen(opened.attributes.inode))
            let unknown = try await client.create(parent: root, name: "not-opened", permissions: 0o644, exclusive: true, caller: .root, openSession: session + 1)
            #expect(unknown.created && unknown.open == nil)
            #expect(!fixture.store.store.openFiles.isOpen(unknown.attributes.inode))
        }
    }

    @Test(arguments: TestEngine.all) func namespaceRoundTripThroughMetaClient(_ engine: TestEngine) async throws {
        try await withServiceFixture(engine: engine) { fixture in
            let client = fixture.client
            let caller = MetaCaller.root
            let directory = try await client.makeDirectory(parent: root, name: "dir", permissions: 0o755, caller: caller)
            let created = try await client.create(parent: directory.inode, name: "file", permissions: 0o644, exclusive: true, caller: caller)
            #expect(created.created)
            #expect(try await client.lookup(parent: directory.inode, name: "file", caller: caller) == created.attributes)
            #expect(try await client.attributes(of: created.attributes.inode) == created.attributes)
            let changed = try await client.setAttributes(of: created.attributes.inode, AttributeChanges(permissions: 0o600, accessTime: .at(Timestamp(seconds: 7, nanoseconds: 9))), caller: caller)
            #expect(changed.permissions == 0o600)
            #expect(changed.accessTime == Timestamp(seconds: 7, nanoseconds: 9))

            let link = try await client.makeSymbolicLink(parent: root, name: "ln", target: Array("dir/file".utf8), caller: caller)
            #expect(try await client.readSymbolicLink(link.inode) == Array("dir/file".utf8))
            _ = try await client.link(created.attributes.inode, newParent: root, newName: "hard", caller: caller)
            try await client.rename(parent: root, name: "hard", newParent: root, newName: "hard2", mode: .noReplace, caller: caller)
            let listing = try await client.readDirectory(root, after: 0, limit: 100)
            #expect(listing.map(\.name) == [".", "..", "dir", "ln", "hard2"])
            #expect(listing[4].attributes.linkCount == 2)

            try await client.setExtendedAttribute(of: created.attributes.inode, name: "user.k", value: [1, 2, 3], caller: caller)
            #expect(try await client.extendedAttribute(of: created.attributes.inode, name: "user.k") == [1, 2, 3])
            #expect(try await client.extendedAttributeNames(of: created.attributes.inode) == ["user.k"])
            try await client.removeExtendedAttribute(of: created.attributes.inode, name: "user.k", caller: caller)

            let written = try await client.writeInline(created.attributes.inode, offset: 0, bytes: Array("tiny".utf8))
            #expect(written.stored)
            #expect(try await client.readInline(of: created.attributes.inode).bytes == Array("tiny".utf8))

            try await client.remove(parent: root, name: "hard2", caller: caller)
            try await client.remove(parent: directory.inode, name: "file", caller: caller)
            try await client.removeDirectory(parent: root, name: "dir", caller: caller)
            let statistics = try await client.statistics()
            #expect(statistics.maximumNameLength == 255)
        }
    }

    @Test func posixFailuresArriveAsTheirErrno() async throws {
        try await withServiceFixture { fixture in
            let client = fixture.client
            await expectErrno(ENOENT) { _ = try await client.lookup(parent: root, name: "missing", caller: .root) }
            await expectErrno(EACCES) { _ = try await client.create(parent: root, name: "f", permissions: 0o644, exclusive: true, caller: StoreFixture.alice) }
            _ = try await client.create(parent: root, name: "f", permissions: 0o644, exclusive: true, caller: .root)
            await expectErrno(EEXIST) { _ = try await client.create(parent: root, name: "f", permissions: 0o644, exclusive: true, caller: .root) }
            await expectErrno(EPERM) {
                _ = try await client.setAttributes(of: try await client.lookup(parent: root, name: "f", caller: .root).inode,
                                                   AttributeChanges(uid: 5), caller: StoreFixture.alice)
            }
            await expectErrno(ENAMETOOLONG) { _ = try await client.makeDirectory(parent: root, name: FileName(String(repeating: "d", count: 256)), permissions: 0o755, caller: .root) }
            await expectErrno(ENODATA) { _ = try await client.extendedAttribute(of: root, name: "user.none") }
            // Not POSIX: a cluster-level refusal stays a WireError.
            await expectStatus(.unavailable) { _ = try await client.createVolume(VolumeSpecification(name: "v")) }
        }
    }

    @Test func nodesVolumesAndMapOverTheWire() async throws {
        try await withServiceFixture { fixture in
            let client = fixture.client
            var ids: [UInt32] = []
            for index in 0..<6 {
                let acknowledgement = try await client.registerNode(RegisterNodeRequest(
                    uuid: "uuid-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
                    dataDirectory: "/d\(index)", pid: 10 + Int32(index), capacity: 1 << 30, free: 1 << 29))
                ids.append(acknowledgement.nodeID)
            }
            let heartbeat = try await client.heartbeat(HeartbeatRequest(nodeID: ids[0], capacity: 1 << 30, free: 1 << 28, fragmentCount: 3))
            #expect(heartbeat.previousState == .up)
            let volume = try await client.createVolume(VolumeSpecification(name: "default", k: 4, n: 6, groupCount: 12))
            #expect(try await client.volumes() == [volume])
            let map = try await client.groupMap()
            #expect(map.groups.count == 12)
            #expect(map.nodes.count == 6)
            let replaced = try await client.replaceMember(groupID: map.groups[0].id, index: 0, nodeID: map.groups[0].members[0])
            #expect(replaced == map.groups[0], "a no-op replacement keeps the epoch")
            let status = try await client.status()
            #expect(status.nodes.map(\.hostID) == (0..<6).map { "host-\($0)" })
            #expect(status.nodes[0].fragmentCount == 3)
            #expect(try await client.nodes().count == 6)

            let created = try await client.create(parent: root, name: "big", permissions: 0o644, exclusive: true, caller: .root)
            let moved = try await client.clearInline(of: created.attributes.inode)
            #expect(moved.isInline && moved.bytes.isEmpty)
            let layout = try await client.fileLayout(of: created.attributes.inode)
            #expect(layout.group.id == created.groupID)
            #expect(layout.members.map(\.address.port).allSatisfy { (7000..<7006).contains($0) })
            _ = try await client.updateSizeAfterWrite(created.attributes.inode, size: 3 << 20)
            let removed = try await client.remove(parent: root, name: "big", caller: .root)
            #expect(removed?.size == 3 << 20)
            #expect(try await client.pendingDeletions().map(\.inode) == [created.attributes.inode])
            try await client.confirmDeletions([created.attributes.inode])
            #expect(try await client.pendingDeletions().isEmpty)
        }
    }

    @Test func malformedPayloadsGetErrorRepliesAndTheServiceGoesOn() async throws {
        try await withServiceFixture { fixture in
            let connection = fixture.connection
            var generator = SystemRandomNumberGenerator()
            for opcode in MetaOpcode.allCases {
                for length in [0, 1, 3, 9, 40] {
                    var payload = ByteBuffer()
                    payload.writeBytes((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
                    let frame = try await connection.callFrame(opcode: opcode.rawValue, payload: payload, timeout: .seconds(10))
                    // Random bytes occasionally decode; what matters is a reply, never a crash.
                    #expect(WireStatus(rawValue: frame.status) != nil)
                }
            }
            // A valid request with trailing garbage and a truncated one: badRequest exactly.
            var trailing = InodeRequest(inode: 1).encoded()
            trailing.writeInteger(UInt8(1))
            let trailingReply = try await connection.callFrame(opcode: MetaOpcode.getAttributes.rawValue, payload: trailing, timeout: .seconds(5))
            #expect(trailingReply.status == WireStatus.badRequest.rawValue)
            var truncated = ByteBuffer()
            truncated.writeInteger(UInt32(1))
            let truncatedReply = try await connection.callFrame(opcode: MetaOpcode.lookup.rawValue, payload: truncated, timeout: .seconds(5))
            #expect(truncatedReply.status == WireStatus.badRequest.rawValue)
            // A name claiming 4 GiB, a bad kind, an unknown opcode.
            var huge = ByteBuffer()
            huge.writeInteger(UInt64(1))
            huge.writeInteger(UInt32.max)
            let hugeReply = try await connection.callFrame(opcode: MetaOpcode.lookup.rawValue, payload: huge, timeout: .seconds(5))
            #expect(hugeReply.status == WireStatus.badRequest.rawValue)
            var badKind = CreateRequest(parent: 1, name: "x", kind: .regular, permissions: 0o644, exclusive: true, caller: .root).encoded()
            badKind.setInteger(UInt8(99), at: 8 + 4 + 1)
            let badKindReply = try await connection.callFrame(opcode: MetaOpcode.create.rawValue, payload: badKind, timeout: .seconds(5))
            #expect(badKindReply.status == WireStatus.badRequest.rawValue)
            let unknown = try await connection.callFrame(opcode: 0x9F, payload: ByteBuffer(), timeout: .seconds(5))
            #expect(unknown.status == WireStatus.badRequest.rawValue)
            // Still serving, and nothing was created by the garbage but what random bytes may make.
            #expect(try await fixture.client.attributes(of: 1).kind == .directory)
            await expectErrno(ENOENT) { _ = try await fixture.client.lookup(parent: 1, name: "x", caller: .root) }
        }
    }

    /// Small-file speed at the service: create + stat + unlink through the wire, one at a time
    /// (as a single-threaded `touch; stat; rm` loop would) and 16 at a time. No assertion: the
    /// figure goes to the log. The PostgreSQL row runs on the test server, which has fsync off
    /// unless RADONFS_TEST_PG_FSYNC=on.
    @Test(arguments: [(TestEngine.sqlite, SQLiteEngine.Durability.full), (.sqlite, .normal), (.postgres, .full)])
    func createStatUnlinkRate(engine: TestEngine, durability: SQLiteEngine.Durability) async throws {
        try await withServiceFixture(engine: engine, durability: durability) { fixture in
            let client = fixture.client
            let directory = try await client.makeDirectory(parent: root, name: "bench", permissions: 0o755, caller: .root)
            let count = engine == .postgres ? 200 : 1000
            let sequentialStart = ContinuousClock.now
            for index in 0..<count {
                let created = try await client.create(parent: directory.inode, name: "f\(index)", permissions: 0o644, exclusive: true, caller: .root)
                _ = try await client.attributes(of: created.attributes.inode)
            }
            for index in 0..<count { try await client.remove(parent: directory.inode, name: "f\(index)", caller: .root) }
            let sequential = ContinuousClock.now - sequentialStart

            let parallelStart = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<16 {
                    group.addTask {
                        for index in stride(from: lane, to: count, by: 16) {
                            let created = try await client.create(parent: directory.inode, name: "p\(index)", permissions: 0o644, exclusive: true, caller: .root)
                            _ = try await client.attributes(of: created.attributes.inode)
                            try await client.remove(parent: directory.inode, name: "p\(index)", caller: .root)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let parallel = ContinuousClock.now - parallelStart
            func rate(_ duration: Duration) -> Int { Int(Double(count) / duration.seconds) }
            print("meta create+stat+unlink: \(rate(sequential)) files/s sequential, \(rate(parallel)) files/s with 16 in flight (\(engine == .sqlite ? "SQLite, durability \(durability)" : "PostgreSQL"))")
            #expect(try await client.readDirectory(directory.inode).count == 2)
        }
    }
}
