import Foundation
import NIOCore
import Testing
@testable import RadonWire

@Suite struct WireConnectionTests {
    @Test func echoAndTypedCalls() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        defer { connection.close() }
        try await connection.ping()
        let echoed = try await connection.call(opcode: 0x10, payload: ByteBuffer(string: "hello"), timeout: .seconds(5))
        #expect(echoed == ByteBuffer(string: "hello"))
        let message = TestMessage(number: 21, text: "ab", flag: false, bytes: [9], optional: nil, list: ["z"])
        let reply: TestMessage = try await connection.call(0x12, message, timeout: .seconds(5))
        #expect(reply.number == 42 && reply.text == "abab")
        // Empty and large payloads both frame correctly.
        #expect(try await connection.call(opcode: 0x10, payload: ByteBuffer(), timeout: .seconds(5)).readableBytes == 0)
        let large = ByteBuffer(bytes: (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(try await connection.call(opcode: 0x10, payload: large, timeout: .seconds(20)) == large)
        // A payload sent in parts arrives as one, large or small, empty parts included.
        for parts in [[ByteBuffer(string: "ab"), ByteBuffer(), ByteBuffer(string: "c")], [ByteBuffer(string: "head"), large, ByteBuffer(string: "tail")]] {
            var joined = ByteBuffer()
            for var part in parts { joined.writeBuffer(&part) }
            let reply = try await connection.call(opcode: 0x10, payload: parts[0], trailingPayload: Array(parts.dropFirst()), timeout: .seconds(20))
            #expect(reply == joined)
        }
    }

    @Test func manyRequestsInFlightOnOneConnectionComeBackMatched() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        defer { connection.close() }
        let count = 2000
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<count {
                group.addTask {
                    var payload = ByteBuffer()
                    payload.writeInteger(UInt64(index))
                    payload.writeRepeatingByte(UInt8(truncatingIfNeeded: index), count: index % 300)
                    let reply = try await connection.call(opcode: 0x11, payload: payload, timeout: .seconds(30))
                    return reply == payload
                }
            }
            var matched = 0
            for try await ok in group where ok { matched += 1 }
            #expect(matched == count)
        }
        // Requests are served concurrently: 100 calls of 100 ms each take far less than 10 s.
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { _ = try await connection.call(opcode: 0x15, payload: ByteBuffer(), timeout: .seconds(30)) }
            }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func failuresCarryStatusAndErrno() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        defer { connection.close() }
        let error = await #expect(throws: WireError.self) {
            _ = try await connection.call(opcode: 0x13, payload: ByteBuffer(), timeout: .seconds(5))
        }
        #expect(error?.status == .permissionDenied)
        #expect(error.map { FileSystemError($0).errno } == FileSystemError.notPermitted().errno)
        // A malformed payload is answered with badRequest and the connection keeps working.
        let bad = await #expect(throws: WireError.self) {
            _ = try await connection.call(opcode: 0x12, payload: ByteBuffer(bytes: [1, 2, 3]), timeout: .seconds(5))
        }
        #expect(bad?.status == .badRequest)
        // The connection opcodes are refused after the handshake.
        let handshake = await #expect(throws: WireError.self) {
            _ = try await connection.call(opcode: ConnectionOpcode.authenticate, payload: ByteBuffer(), timeout: .seconds(5))
        }
        #expect(handshake?.status == .badRequest)
        try await connection.ping()
    }

    @Test func timeoutsAndClosedConnections() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        let slow = await #expect(throws: WireError.self) {
            _ = try await connection.call(opcode: 0x14, payload: ByteBuffer(), timeout: .milliseconds(200))
        }
        #expect(slow?.status == .timedOut)
        // A call in flight when the server goes away fails as unavailable, not by hanging.
        let pending = Task { try await connection.call(opcode: 0x14, payload: ByteBuffer(), timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        try await server.close()
        let closed = await #expect(throws: WireError.self) { _ = try await pending.value }
        #expect(closed?.status == .unavailable)
        #expect(!connection.isActive)
        let after = await #expect(throws: WireError.self) { try await connection.ping() }
        #expect(after?.status == .unavailable)
        let refused = await #expect(throws: WireError.self) {
            _ = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key), timeout: .seconds(2))
        }
        #expect(refused?.status == .unavailable)
    }

    /// A read decided without a silent node cancels its call there: the caller must be let go at
    /// once, not held to the call's timeout (a task group waits for every child it cancelled).
    /// Calls not marked so (mutations) still wait for their reply.
    @Test func aCancelledCallEndsAtOnceAndTheConnectionKeepsServing() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try? await server.close() } }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        let started = ContinuousClock.now
        let outcome = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    _ = try await connection.call(opcode: 0x14, payload: ByteBuffer(), timeout: .seconds(20), abandonedOnCancel: true)
                    return nil
                } catch {
                    return error
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
            group.cancelAll()
            return await group.next() ?? nil
        }
        let waited = ContinuousClock.now - started
        #expect(outcome is CancellationError, "\(String(describing: outcome))")
        // The server answers after 3 s; the caller was let go long before (a bound of the
        // feature, not a speed).
        #expect(waited < .seconds(2), "the cancelled call held its caller for \(waited)")
        // A call that is not abandoned on cancel (a mutation) waits for its reply anyway.
        let kept = Task {
            try await connection.call(opcode: 0x15, payload: ByteBuffer(bytes: [9]), timeout: .seconds(20))
        }
        kept.cancel()
        #expect(try await kept.value == ByteBuffer(bytes: [9]))
        // The late reply of the abandoned one is dropped; the connection still serves calls.
        try await Task.sleep(for: .seconds(3))
        #expect(connection.isActive)
        let echoed = try await connection.call(opcode: 0x10, payload: ByteBuffer(bytes: [1, 2, 3]))
        #expect(echoed == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test func wrongKeyOrNoKeyIsRefusedAndTheServerKeepsServing() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let wrong = await #expect(throws: WireError.self) {
            _ = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(ClusterKey.generate()))
        }
        #expect(wrong?.status == .unauthorized)

        // A request without authenticating first: the connection is closed, nothing is answered.
        let probe = try await WireProbe.connect(to: server.localAddress)
        let challenge = await probe.nextFrame()
        #expect(challenge?.opcode == ConnectionOpcode.challenge)
        await probe.sendFrame(opcode: 0x10, requestID: 1, payload: ByteBuffer(string: "x"))
        #expect(await probe.waitUntilClosed())

        // A correct answer from a raw socket is accepted.
        let good = try await WireProbe.connect(to: server.localAddress)
        #expect(await good.authenticate(with: key))
        await good.sendFrame(opcode: 0x10, requestID: 5, payload: ByteBuffer(string: "y"))
        let echo = await good.nextFrame()
        #expect(echo?.requestID == 5 && echo?.payload == ByteBuffer(string: "y"))
        good.close()

        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        try await connection.ping()
        connection.close()
    }

    @Test func malformedHeadersCloseOnlyThatConnection() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        defer { connection.close() }

        let badMagic = try await WireProbe.connect(to: server.localAddress)
        #expect(await badMagic.authenticate(with: key))
        await badMagic.send(ByteBuffer(bytes: Array(repeating: 0x41, count: 64)))
        #expect(await badMagic.waitUntilClosed())

        let tooLong = try await WireProbe.connect(to: server.localAddress)
        #expect(await tooLong.authenticate(with: key))
        var header = ByteBuffer()
        header.writeMultipleIntegers(Frame.magic, Frame.version, UInt8(0x10), UInt16(0), UInt64(1), UInt32(Frame.maximumPayloadLength + 1), UInt32(0))
        await tooLong.send(header)
        #expect(await tooLong.waitUntilClosed())

        // Before authentication even a modest frame is refused (the first frame is bounded to the MAC).
        let early = try await WireProbe.connect(to: server.localAddress)
        await early.sendFrame(opcode: ConnectionOpcode.authenticate, requestID: 0, payload: ByteBuffer(repeating: 0, count: 1024))
        #expect(await early.waitUntilClosed())

        try await connection.ping()
    }

    @Test func silentOrHalfHeaderPeersAreDisconnected() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key, authenticationTimeout: .milliseconds(300))
        defer { Task { try await server.close() } }
        let silent = try await WireProbe.connect(to: server.localAddress)
        let partial = try await WireProbe.connect(to: server.localAddress)
        await partial.send(ByteBuffer(bytes: [0x52, 0x44, 0x4E]))
        #expect(await silent.waitUntilClosed(timeout: .seconds(5)))
        #expect(await partial.waitUntilClosed(timeout: .seconds(5)))
        // An authenticated connection is not subject to the deadline.
        let connection = try await WireConnection.connect(to: server.localAddress, credentials: .sharedKey(key))
        try await Task.sleep(for: .milliseconds(600))
        try await connection.ping()
        connection.close()
    }

    @Test func poolReusesAndReconnects() async throws {
        let key = ClusterKey.generate()
        let server = try await startTestServer(key: key)
        defer { Task { try await server.close() } }
        let pool = WireConnectionPool(credentials: .sharedKey(key))
        let first = try await pool.connection(to: server.localAddress)
        let again = try await pool.connection(to: server.localAddress)
        #expect(first === again)
        first.close()
        try await Task.sleep(for: .milliseconds(50))
        let fresh = try await pool.connection(to: server.localAddress)
        #expect(fresh !== first)
        try await fresh.ping()
        // Concurrent first requests share one connection.
        await pool.closeAll()
        let connections = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<20 { group.addTask { ObjectIdentifier(try await pool.connection(to: server.localAddress)) } }
            return try await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
        }
        #expect(connections.count == 1)
        await pool.closeAll()
    }
}
