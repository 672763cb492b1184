import Logging
import NIOCore
import NIOPosix
import RadonWire
import Synchronization
import Testing

/// `MetaFailover` on real loopback servers: it moves past dead and standby servers, keeps one
/// request id across the retries of one call, and gives up after its ride-through time.
@Suite("Metadata failover transport")
struct MetaFailoverTests {
    static var logger: Logger {
        var logger = Logger(label: "test.failover")
        logger.logLevel = .critical
        return logger
    }

    /// A server answering every request with `status` (ok: echoes the opcode and payload),
    /// recording the opcodes and payloads it saw.
    final class Recorder: Sendable {
        let seen = Mutex<[(UInt8, [UInt8])]>([])
    }

    static func server(key: ClusterKey, status: WireStatus, recorder: Recorder) async throws -> WireServer {
        try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: logger) { request in
            let bytes = request.payload.getBytes(at: request.payload.readerIndex, length: request.payload.readableBytes) ?? []
            recorder.seen.withLock { $0.append((request.opcode, bytes)) }
            guard status == .ok else { return .failure(status, "test server") }
            var reply = ByteBuffer()
            reply.writeInteger(request.opcode)
            return .ok(reply)
        }
    }

    /// A port nothing listens on (a server started and closed).
    static func deadAddress(key: ClusterKey) async throws -> WireAddress {
        let server = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: logger) { _ in .ok() }
        let address = server.localAddress
        try await server.close()
        return address
    }

    @Test func aCallMovesPastADeadServerAndAStandbyAndKeepsItsRequestID() async throws {
        let key = ClusterKey.generate()
        let (standbySeen, activeSeen) = (Recorder(), Recorder())
        let standby = try await Self.server(key: key, status: .notActive, recorder: standbySeen)
        let active = try await Self.server(key: key, status: .ok, recorder: activeSeen)
        let dead = try await Self.deadAddress(key: key)
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        let failover = MetaFailover(addresses: [dead, standby.localAddress, active.localAddress], pool: pool,
                                    rideThrough: .seconds(10), logger: Self.logger)
        var payload = ByteBuffer()
        payload.writeInteger(UInt32(42))
        let reply = try await failover.call(metaOpcode: MetaOpcode.create.rawValue, payload: payload, timeout: .seconds(5))
        #expect(reply.getInteger(at: reply.readerIndex, as: UInt8.self) == MetaOpcode.identified.rawValue)
        // The standby and the active server saw the same request id: one for the whole call,
        // marked as a retry after the first try (at the dead address, which may have got it).
        let atStandby = standbySeen.seen.withLock { $0 }
        let atActive = activeSeen.seen.withLock { $0 }
        #expect(atStandby.count == 1 && atActive.count == 1)
        let envelope = try IdentifiedRequest(decoding: ByteBuffer(bytes: atActive.first?.1 ?? []))
        let atStandbyEnvelope = try IdentifiedRequest(decoding: ByteBuffer(bytes: atStandby.first?.1 ?? []))
        #expect(atStandbyEnvelope.identity == envelope.identity && atStandbyEnvelope.isRetry && envelope.isRetry)
        #expect(envelope.opcode == MetaOpcode.create.rawValue && envelope.identity.client == failover.clientID)
        // The next call goes straight to the active server, with the next sequence number; a
        // read goes without an envelope.
        _ = try await failover.call(metaOpcode: MetaOpcode.create.rawValue, payload: payload, timeout: .seconds(5))
        _ = try await failover.call(metaOpcode: MetaOpcode.lookup.rawValue, payload: payload, timeout: .seconds(5))
        let later = activeSeen.seen.withLock { $0 }
        #expect(later.count == 3 && standbySeen.seen.withLock { $0.count } == 1)
        let next = try IdentifiedRequest(decoding: ByteBuffer(bytes: later[1].1))
        #expect(next.identity.sequence == envelope.identity.sequence + 1)
        #expect(!next.isRetry, "a call's first send skips the operation log's lookup")
        #expect(later[2].0 == MetaOpcode.lookup.rawValue && later[2].1 == [0, 0, 0, 42])
        #expect(failover.currentAddress == active.localAddress)
        await pool.closeAll()
        try await standby.close()
        try await active.close()
    }

    /// An address that accepts TCP and then never says a byte, as a host behind a cut link
    /// looks to a connection attempt: every attempt there lasts the whole connect timeout.
    static func silentAddress() async throws -> (address: WireAddress, listener: any Channel) {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return (WireAddress(host: "127.0.0.1", port: listener.localAddress?.port ?? 0), listener)
    }

    /// A metadata server whose link is cut costs a call its connect timeout once, not on every
    /// retry round: while the other server is a standby (`notActive`) the call keeps asking
    /// it, and is answered soon after it is promoted. Without the pass-over, each round spent
    /// the 4 s timeout at the cut address, and the answer came about 3 s after the promotion.
    @Test func aCutAddressIsPassedOverWhileTheOtherServerIsPromoted() async throws {
        let key = ClusterKey.generate()
        let promoted = Mutex(false)
        let server = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: Self.logger) { _ in
            promoted.withLock { $0 } ? .ok() : .failure(.notActive, "standby")
        }
        let cut = try await Self.silentAddress()
        let pool = WireConnectionPool(credentials: .sharedKey(key), connectTimeout: .seconds(4))
        let failover = MetaFailover(
            addresses: [cut.address, server.localAddress],
            pool: pool, rideThrough: .seconds(30), logger: Self.logger)
        let started = ContinuousClock.now
        let promotion = Task {
            try await Task.sleep(for: .seconds(5))
            promoted.withLock { $0 = true }
            return ContinuousClock.now
        }
        _ = try await failover.call(metaOpcode: MetaOpcode.getAttributes.rawValue, payload: ByteBuffer(), timeout: .seconds(10))
        let answered = ContinuousClock.now
        let promotedAt = try await promotion.value
        #expect(answered >= promotedAt)
        #expect(answered - promotedAt < .seconds(2), "answered \(answered - promotedAt) after the promotion, \(answered - started) in all")
        #expect(failover.currentAddress == server.localAddress)
        await pool.closeAll()
        try await cut.listener.close()
        try await server.close()
    }

    @Test func aServiceThatComesBackWithinTheRideThroughIsWaitedFor() async throws {
        let key = ClusterKey.generate()
        let dead = try await Self.deadAddress(key: key)
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        let failover = MetaFailover(addresses: [dead], pool: pool, rideThrough: .seconds(20), logger: Self.logger)
        let recorder = Recorder()
        let started = ContinuousClock.now
        let restart = Task {
            try await Task.sleep(for: .seconds(1))
            return try await WireServer.start(host: dead.host, port: dead.port, credentials: .sharedKey(key), logger: Self.logger) { request in
                recorder.seen.withLock { $0.append((request.opcode, [])) }
                return .ok()
            }
        }
        _ = try await failover.call(metaOpcode: MetaOpcode.getAttributes.rawValue, payload: ByteBuffer(), timeout: .seconds(5))
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(recorder.seen.withLock { $0.count } == 1)
        await pool.closeAll()
        try await restart.value.close()
    }

    @Test func aCallFailsOnceTheRideThroughHasPassed() async throws {
        let key = ClusterKey.generate()
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        let failover = MetaFailover(addresses: [try await Self.deadAddress(key: key), try await Self.deadAddress(key: key)],
                                    pool: pool, rideThrough: .milliseconds(600), logger: Self.logger)
        let started = ContinuousClock.now
        await #expect(throws: WireError.self) {
            _ = try await failover.call(metaOpcode: MetaOpcode.getAttributes.rawValue, payload: ByteBuffer(), timeout: .seconds(5))
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(600) && waited < .seconds(5), "waited \(waited)")
        await pool.closeAll()
    }

    /// An error reply is the server's answer, `.unavailable` included (EAGAIN of a lock, "no
    /// volume yet"): only a failure of the connection itself is retried.
    @Test(arguments: [WireStatus.exists, .unavailable, .timedOut])
    func anAnswerThatIsAnErrorIsNotRetried(status: WireStatus) async throws {
        let key = ClusterKey.generate()
        let recorder = Recorder()
        let server = try await Self.server(key: key, status: status, recorder: recorder)
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        let failover = MetaFailover(addresses: [server.localAddress], pool: pool, rideThrough: .seconds(10), logger: Self.logger)
        await #expect(throws: WireError(status, "test server")) {
            _ = try await failover.call(metaOpcode: MetaOpcode.create.rawValue, payload: ByteBuffer(), timeout: .seconds(5))
        }
        #expect(recorder.seen.withLock { $0.count } == 1)
        await pool.closeAll()
        try await server.close()
    }

    @Test func metadataAddressListsParse() {
        #expect(WireAddress.list("10.0.0.1:7400, meta-b:7401") == [WireAddress(host: "10.0.0.1", port: 7400), WireAddress(host: "meta-b", port: 7401)])
        #expect(WireAddress.list("[::1]:7400") == [WireAddress(host: "::1", port: 7400)])
        #expect(WireAddress.list("a:1,nonsense") == nil)
        #expect(WireAddress.list("") == nil)
    }
}
