import NIOCore
import Testing
@testable import RadonWire

/// A call with a `SilenceWatch` leaves a server that went silent (the relay between them cut:
/// no byte either way, no reset) long before its timeout, and keeps waiting for one that is
/// only slow, since the server's wire layer answers the watch's ping meanwhile.
@Suite struct SilenceWatchTests {
    static let watch = SilenceWatch(probeAfter: .milliseconds(200), answerWithin: .milliseconds(500))

    @Test func aCallToAServerThatWentSilentFailsUnavailableWellBeforeItsTimeout() async throws {
        try await withRelayedConnection { connection, relay in
            try await connection.ping()
            let started = ContinuousClock.now
            // 0x14 answers after 3 s; the relay is cut before it does.
            let call = Task {
                try await connection.callFrame(opcode: 0x14, payload: ByteBuffer(), timeout: .seconds(30), silenceWatch: Self.watch)
            }
            try await Task.sleep(for: .milliseconds(100))
            relay.cut()
            let error = await #expect(throws: WireError.self) { _ = try await call.value }
            let waited = started.duration(to: .now)
            print("a call to a silent server failed after \(waited): \(error.map { "\($0)" } ?? "-")")
            #expect(error?.status == .unavailable)
            #expect(error?.message.contains("silent") == true)
            // 0.7 s expected; without the watch, the call's 30 s timeout.
            #expect(waited < .seconds(10))
            // The connection is closed, so the pool opens a new one for the next call.
            for _ in 0..<100 where connection.isActive { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!connection.isActive)
        }
    }

    @Test func aCallToASlowServerThatAnswersPingsKeepsWaiting() async throws {
        try await withRelayedConnection { connection, relay in
            // 3 s of silence from the service, 15 watch periods: every ping is answered.
            let frame = try await connection.callFrame(opcode: 0x14, payload: ByteBuffer(), timeout: .seconds(30), silenceWatch: Self.watch)
            #expect(frame.status == WireStatus.ok.rawValue)
            #expect(connection.isActive)
            // An unwatched call on a cut connection just waits for its timeout.
            relay.cut()
            let started = ContinuousClock.now
            let error = await #expect(throws: WireError.self) {
                _ = try await connection.callFrame(opcode: 0x10, payload: ByteBuffer(), timeout: .seconds(1))
            }
            #expect(error?.status == .timedOut)
            #expect(started.duration(to: .now) >= .seconds(1))
        }
    }

    /// Runs `body` with a connection to a test server through a relay it can cut.
    func withRelayedConnection(_ body: (WireConnection, ByteRelay) async throws -> Void) async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let relay = try await ByteRelay.start(to: (server.localAddress.host, server.localAddress.port))
        defer { Task { await relay.close() } }
        let connection = try await WireConnection.connect(
            to: WireAddress(host: relay.address.host, port: relay.address.port), credentials: .sharedKey(key))
        defer { connection.close() }
        try await body(connection, relay)
    }
}
