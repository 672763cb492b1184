import Foundation
import Logging
import NIOCore
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// The operation log over the wire: one request id sent twice is run once and answered twice
/// alike, as a client's retry after a lost reply is.
@Suite("Operation log: identified mutations")
struct OperationLogTests {
    let root = StoreFixture.rootInode

    /// Sends `request` as `opcode` inside an `identified` envelope with `identity`, as its first
    /// send or a retry; the reply frame's status and payload bytes.
    func send(_ opcode: MetaOpcode, _ request: some WireMessage, as identity: MetaRequestIdentity, isRetry: Bool,
              on connection: WireConnection) async throws -> (status: UInt16, payload: [UInt8]) {
        let envelope = IdentifiedRequest(identity: identity, isRetry: isRetry, opcode: opcode.rawValue, payload: request.encoded())
        let frame = try await connection.callFrame(opcode: MetaOpcode.identified.rawValue, payload: envelope.encoded(), timeout: .seconds(10))
        return (frame.status, frame.payload.getBytes(at: frame.payload.readerIndex, length: frame.payload.readableBytes) ?? [])
    }

    /// Sends `request` twice under one id: both succeed with the same reply, which is returned.
    func sendTwice(_ opcode: MetaOpcode, _ request: some WireMessage, sequence: UInt64, on connection: WireConnection,
                   _ what: Comment) async throws -> [UInt8] {
        let identity = MetaRequestIdentity(client: 0xC11E47, sequence: sequence)
        let first = try await send(opcode, request, as: identity, isRetry: false, on: connection)
        let second = try await send(opcode, request, as: identity, isRetry: true, on: connection)
        #expect(first.status == WireStatus.ok.rawValue, "\(opcode)")
        #expect(second.status == WireStatus.ok.rawValue, what)
        #expect(second.payload == first.payload, what)
        return second.payload
    }

    @Test(arguments: TestEngine.all)
    func aRetriedCreateRenameRemoveAndClearInlineGetTheirFirstReplyAndActOnce(engine: TestEngine) async throws {
        try await withServiceFixture(engine: engine) { fixture in
            let (client, connection) = (fixture.client, fixture.connection)
            // A volume, so that clearInline has somewhere to move a file to.
            for index in 0..<6 {
                _ = try await client.registerNode(RegisterNodeRequest(
                    uuid: "uuid-\(index)", address: WireAddress(host: "127.0.0.1", port: 7000 + index), hostID: "host-\(index)",
                    dataDirectory: "/d\(index)", pid: 10 + Int32(index), capacity: 1 << 30, free: 1 << 29))
            }
            _ = try await client.createVolume(VolumeSpecification(name: "default", k: 4, n: 6, groupCount: 2))
            let create = CreateRequest(parent: root, name: "a", kind: .regular, permissions: 0o644, exclusive: true, caller: .root)
            let created = try await sendTwice(.create, create, sequence: 1, on: connection, "a retried exclusive create is not EEXIST")
            // The same create under another id is a new request: now the name exists.
            let other = try await send(.create, create, as: MetaRequestIdentity(client: 0xC11E47, sequence: 2), isRetry: false, on: connection)
            #expect(other.status == WireStatus.exists.rawValue)
            let inode = try CreateReply(decoding: ByteBuffer(bytes: created)).attributes.inode

            #expect(try await client.writeInline(inode, offset: 0, bytes: Array("payload".utf8)).stored)
            let cleared = try await sendTwice(.clearInline, InodeRequest(inode: inode), sequence: 3, on: connection, "clearInline retried")
            #expect(try InlineDataReply(decoding: ByteBuffer(bytes: cleared)).bytes == Array("payload".utf8),
                    "a retried clearInline still returns the bytes")

            let rename = RenameRequest(parent: root, name: "a", newParent: root, newName: "b", mode: .replace, caller: .root)
            _ = try await sendTwice(.rename, rename, sequence: 4, on: connection, "a retried rename is not ENOENT")
            let remove = NameRequest(parent: root, name: "b", caller: .root)
            _ = try await sendTwice(.remove, remove, sequence: 5, on: connection, "a retried unlink is not ENOENT")

            // One effect each: the directory is empty again, and a create of "b" is new.
            let names = try await client.readDirectory(root).map { String(decoding: $0.name.bytes, as: UTF8.self) }
            #expect(names.sorted() == [".", ".."])
            let plainRemove = try await connection.callFrame(opcode: MetaOpcode.remove.rawValue, payload: remove.encoded(), timeout: .seconds(5))
            #expect(plainRemove.status == WireStatus.notFound.rawValue, "without an id a second unlink runs again")
        }
    }

    @Test(arguments: TestEngine.all)
    func aRetryIsAnsweredAfterTheServiceRestartedButNotOnceTheLogWasTrimmed(engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let key = ClusterKey.generate()
        var logger = Logger(label: "test.meta")
        logger.logLevel = .warning
        let directory = try await fixture.store.makeDirectory(MakeDirectoryRequest(parent: root, name: "d", permissions: 0o755, caller: .root))
        let request = MakeDirectoryRequest(parent: directory.inode, name: "sub", permissions: 0o755, caller: .root)
        let identity = MetaRequestIdentity(client: 7, sequence: 99)
        // First life of the service: the request commits.
        let first = try await withServer(store: fixture.store, key: key, logger: logger) { connection in
            try await send(.makeDirectory, request, as: identity, isRetry: false, on: connection)
        }
        #expect(first.status == WireStatus.ok.rawValue)
        // A new service on a new store object over the same database: the log answers.
        let reopened = try await fixture.reopened()
        let retried = try await withServer(store: reopened, key: key, logger: logger) { connection in
            try await send(.makeDirectory, request, as: identity, isRetry: true, on: connection)
        }
        #expect(retried.status == WireStatus.ok.rawValue)
        #expect(retried.payload == first.payload)
        // Trimmed: the same id now runs again, and finds the name taken.
        #expect(try await reopened.trimOperationLog(before: Int64.max) == 1)
        let afterTrim = try await withServer(store: reopened, key: key, logger: logger) { connection in
            try await send(.makeDirectory, request, as: identity, isRetry: true, on: connection)
        }
        #expect(afterTrim.status == WireStatus.exists.rawValue)
    }

    /// The same identified create sent at once on two connections, as a retry racing its first
    /// attempt: both get the one reply (the second joins the first, or the log answers it).
    @Test(arguments: TestEngine.all)
    func aRetryRacingItsFirstAttemptGetsTheSameReply(engine: TestEngine) async throws {
        try await withServiceFixture(engine: engine) { fixture in
            let second = try await WireConnection.connect(to: fixture.server.localAddress, credentials: .sharedKey(fixture.key))
            defer { second.close() }
            for sequence in UInt64(1)...20 {
                let create = CreateRequest(parent: root, name: FileName("race-\(sequence)"), kind: .regular, permissions: 0o644,
                                           exclusive: true, caller: .root)
                let identity = MetaRequestIdentity(client: 0xACE, sequence: sequence)
                async let one = send(.create, create, as: identity, isRetry: false, on: fixture.connection)
                async let other = send(.create, create, as: identity, isRetry: true, on: second)
                let (a, b) = try await (one, other)
                #expect(a.status == WireStatus.ok.rawValue && b.status == WireStatus.ok.rawValue)
                #expect(a.payload == b.payload)
            }
        }
    }

    @Test func onlyMutationsCanBeIdentified() async throws {
        try await withServiceFixture { fixture in
            let reply = try await send(.lookup, NameRequest(parent: root, name: "x", caller: .root),
                                       as: MetaRequestIdentity(client: 1, sequence: 1), isRetry: false, on: fixture.connection)
            #expect(reply.status == WireStatus.badRequest.rawValue)
        }
    }

    /// Only a retry asks the log. A second "first" send of one id (a first attempt that
    /// arrives after its own retry) is answered from the service's memory of recent replies;
    /// after a restart, with that memory gone, it runs again and finds the name taken. Unknown
    /// flags are refused.
    @Test func aFirstSendSkipsTheLogAndUnknownFlagsAreRefused() async throws {
        try await withServiceFixture { fixture in
            let create = CreateRequest(parent: root, name: "once", kind: .regular, permissions: 0o644, exclusive: true, caller: .root)
            let identity = MetaRequestIdentity(client: 0xF1, sequence: 1)
            let first = try await send(.create, create, as: identity, isRetry: false, on: fixture.connection)
            let again = try await send(.create, create, as: identity, isRetry: false, on: fixture.connection)
            let retry = try await send(.create, create, as: identity, isRetry: true, on: fixture.connection)
            #expect(first.status == WireStatus.ok.rawValue)
            #expect(again.status == WireStatus.ok.rawValue && again.payload == first.payload)
            #expect(retry.status == WireStatus.ok.rawValue && retry.payload == first.payload)
            var logger = Logger(label: "test.meta")
            logger.logLevel = .warning
            let afterRestart = try await withServer(store: fixture.store.store, key: fixture.key, logger: logger) { connection in
                try await send(.create, create, as: identity, isRetry: false, on: connection)
            }
            #expect(afterRestart.status == WireStatus.exists.rawValue)

            var payload = IdentifiedRequest(identity: identity, isRetry: true, opcode: MetaOpcode.create.rawValue, payload: create.encoded()).encoded()
            payload.setInteger(UInt8(7), at: payload.readerIndex + 16)
            let frame = try await fixture.connection.callFrame(opcode: MetaOpcode.identified.rawValue, payload: payload, timeout: .seconds(10))
            #expect(frame.status == WireStatus.badRequest.rawValue)
        }
    }

    /// Serves `store` on a loopback server for the length of `body`.
    func withServer<T>(store: SQLMetadataStore, key: ClusterKey, logger: Logger, _ body: (WireConnection) async throws -> T) async throws -> T {
        let service = MetaService(store: store, logger: logger)
        let server = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: logger) { await service.handle($0) }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        defer {
            connection.close()
        }
        do {
            let result = try await body(connection)
            try? await server.close()
            return result
        } catch {
            try? await server.close()
            throw error
        }
    }
}
