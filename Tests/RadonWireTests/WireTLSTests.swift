import Logging
import NIOCore
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// Mutual TLS, roles and revocation in the connection layer, with real sockets and real
/// certificates of a throwaway cluster CA.
@Suite("Mutual TLS and roles")
struct WireTLSTests {
    static let logger = Logger(label: "test.tls")
    static let echo: UInt8 = 0x10
    static let adminOnly: UInt8 = 0x11

    /// What a test server's handler saw: how many requests, and who sent the last one.
    final class Recorder: Sendable {
        private let state = Mutex<(count: Int, peer: WirePeer?)>((0, nil))

        func record(_ request: WireRequest) {
            state.withLock { $0 = ($0.count + 1, request.peer) }
        }

        var count: Int { state.withLock { $0.count } }
        var lastPeer: WirePeer? { state.withLock { $0.peer } }
    }

    /// A server whose opcode 0x10 echoes for everyone and 0x11 is for admins only.
    struct Server {
        let wire: WireServer
        let recorder = Recorder()

        init(_ credentials: WireCredentials) async throws {
            let recorder = recorder
            let access = WireAccess { request in request.opcode == WireTLSTests.adminOnly ? .admin : .all }
            wire = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: credentials, access: access, logger: WireTLSTests.logger) { request in
                recorder.record(request)
                return .ok(request.payload)
            }
        }

        var requestsHandled: Int { recorder.count }
        var peerOfLastRequest: WirePeer? { recorder.lastPeer }
    }

    static func payload(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    @Test func aClientAndAServerOfTheClusterKnowEachOthersNameAndRole() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("meta", .meta))
            let connection = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("laptop", .client))
            #expect(connection.peer == WirePeer(name: "meta", roles: .meta))
            let reply = try await connection.call(opcode: Self.echo, payload: Self.payload("hello"))
            #expect(String(buffer: reply) == "hello")
            #expect(server.peerOfLastRequest == WirePeer(name: "laptop", roles: .client))
            connection.close()
            try await server.wire.close()
        }
    }

    @Test func aRequestOutsideThePeersRoleIsRefusedBeforeTheServiceSeesIt() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("storage-0", .storage))
            let client = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("laptop", .client))
            await #expect(throws: WireError.self) { _ = try await client.call(opcode: Self.adminOnly, payload: Self.payload("x")) }
            do {
                _ = try await client.call(opcode: Self.adminOnly, payload: Self.payload("x"))
            } catch let error as WireError {
                #expect(error.status == .permissionDenied)
                #expect(error.message.contains("laptop"))
            }
            #expect(server.requestsHandled == 0)
            let admin = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("operator", .admin))
            _ = try await admin.call(opcode: Self.adminOnly, payload: Self.payload("x"))
            #expect(server.requestsHandled == 1)
            client.close()
            admin.close()
            try await server.wire.close()
        }
    }

    @Test func aRevokedCertificateIsRefusedAtItsNextConnection() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("meta", .meta))
            let laptop = try certificates.credentials("laptop", .client)
            let before = try await WireConnection.connect(to: server.wire.localAddress, credentials: laptop)
            _ = try await before.call(opcode: Self.echo, payload: Self.payload("ok"))
            try certificates.authority.revoke(name: "laptop")
            do {
                _ = try await WireConnection.connect(to: server.wire.localAddress, credentials: laptop, timeout: .seconds(3))
                Issue.record("a revoked certificate connected")
            } catch let error as WireError {
                #expect(error.status == .unauthorized)
                #expect(error.message.contains("revoked"), "the client is told why: \(error.message)")
            }
            // Another client of the same CA is still served.
            let other = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("desktop", .client))
            _ = try await other.call(opcode: Self.echo, payload: Self.payload("ok"))
            before.close()
            other.close()
            try await server.wire.close()
        }
    }

    @Test func aRevokedServerIsRefusedByItsClients() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("storage-9", .storage))
            try certificates.authority.revoke(name: "storage-9")
            await #expect(throws: WireError.self) {
                _ = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("laptop", .client), timeout: .seconds(3))
            }
            #expect(server.requestsHandled == 0)
            try await server.wire.close()
        }
    }

    @Test func aCertificateOfAnotherCAIsRefusedBothWays() async throws {
        try await withTestCertificates { ours in
            try await withTestCertificates { theirs in
                let server = try await Server(try ours.credentials("meta", .meta))
                await #expect(throws: WireError.self) {
                    _ = try await WireConnection.connect(to: server.wire.localAddress, credentials: try theirs.credentials("intruder", .admin), timeout: .seconds(3))
                }
                let impostor = try await Server(try theirs.credentials("meta", .meta))
                await #expect(throws: WireError.self) {
                    _ = try await WireConnection.connect(to: impostor.wire.localAddress, credentials: try ours.credentials("laptop", .client), timeout: .seconds(3))
                }
                #expect(server.requestsHandled == 0 && impostor.requestsHandled == 0)
                try await server.wire.close()
                try await impostor.wire.close()
            }
        }
    }

    /// A relay holding a genuine client certificate of the cluster (a compromised laptop)
    /// cannot pose as a server: clients accept only meta and storage certificates.
    @Test func aClientCertificateCannotServe() async throws {
        try await withTestCertificates { certificates in
            let fake = try await Server(try certificates.credentials("stolen-laptop", .client))
            await #expect(throws: WireError.self) {
                _ = try await WireConnection.connect(to: fake.wire.localAddress, credentials: try certificates.credentials("laptop", .client), timeout: .seconds(3))
            }
            try await fake.wire.close()
        }
    }

    @Test func plaintextAndTLSDoNotMix() async throws {
        try await withTestCertificates { certificates in
            let key = ClusterKey.generate()
            let tlsServer = try await Server(try certificates.credentials("meta", .meta))
            await #expect(throws: WireError.self) {
                _ = try await WireConnection.connect(to: tlsServer.wire.localAddress, credentials: .sharedKey(key), timeout: .seconds(1))
            }
            let plainServer = try await Server(.sharedKey(key))
            await #expect(throws: WireError.self) {
                _ = try await WireConnection.connect(to: plainServer.wire.localAddress, credentials: try certificates.credentials("laptop", .client), timeout: .seconds(3))
            }
            #expect(tlsServer.requestsHandled == 0 && plainServer.requestsHandled == 0)
            try await tlsServer.wire.close()
            try await plainServer.wire.close()
        }
    }

    /// Fragment-sized frames in flight both ways at once come back intact: each server read
    /// decrypts into NIOSSL's reused buffer while earlier frames' payloads, copied out of it by
    /// the frame decoder, are still held by their requests.
    @Test func manyLargeFramesInFlightArriveIntact() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("storage-1", .storage))
            let connection = try await WireConnection.connect(to: server.wire.localAddress, credentials: try certificates.credentials("laptop", .client))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for call in 0..<12 {
                    group.addTask {
                        let size = 700_000 + call * 131_071
                        var payload = ByteBuffer()
                        payload.writeBytes((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ call) })
                        let reply = try await connection.call(opcode: Self.echo, payload: payload)
                        #expect(reply == payload, "call \(call) came back changed")
                    }
                }
                try await group.waitForAll()
            }
            #expect(server.requestsHandled == 12)
            connection.close()
            try await server.wire.close()
        }
    }

    /// A relay that only forwards sees no plaintext: the request's words never cross the
    /// wire in the clear.
    @Test func aForwardingRelaySeesOnlyCiphertext() async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("meta", .meta))
            let relay = try await ByteRelay.start(to: (server.wire.localAddress.host, server.wire.localAddress.port))
            let connection = try await WireConnection.connect(
                to: WireAddress(host: relay.address.host, port: relay.address.port), credentials: try certificates.credentials("laptop", .client))
            let secret = "the-secret-file-name-\(UInt64.random(in: 0 ... .max))"
            let reply = try await connection.call(opcode: Self.echo, payload: Self.payload(secret))
            #expect(String(buffer: reply) == secret)
            let seen = relay.seenBytes
            #expect(!seen.isEmpty)
            #expect(!String(decoding: seen, as: UTF8.self).contains(secret))
            connection.close()
            await relay.close()
            try await server.wire.close()
        }
    }

    /// A relay that flips one bit after the handshake, towards the server or towards the
    /// client: the connection fails closed, the server's handler never sees the forged request,
    /// and the client gets an error, never a forged reply.
    @Test(arguments: [ByteRelay.Direction.toServer, .toClient])
    func aFlippedBitAfterTheHandshakeFailsTheConnectionClosed(_ direction: ByteRelay.Direction) async throws {
        try await withTestCertificates { certificates in
            let server = try await Server(try certificates.credentials("meta", .meta))
            let relay = try await ByteRelay.start(to: (server.wire.localAddress.host, server.wire.localAddress.port))
            let connection = try await WireConnection.connect(
                to: WireAddress(host: relay.address.host, port: relay.address.port), credentials: try certificates.credentials("laptop", .client))
            _ = try await connection.call(opcode: Self.echo, payload: Self.payload("before"))
            #expect(server.requestsHandled == 1)
            relay.arm(direction)
            await #expect(throws: WireError.self) {
                _ = try await connection.call(opcode: Self.echo, payload: Self.payload("forged"), timeout: .seconds(5))
            }
            if direction == .toServer {
                #expect(server.requestsHandled == 1)
            }
            // The connection is dead: nothing more goes through it.
            await #expect(throws: WireError.self) {
                _ = try await connection.call(opcode: Self.echo, payload: Self.payload("after"), timeout: .seconds(2))
            }
            connection.close()
            await relay.close()
            try await server.wire.close()
        }
    }
}
