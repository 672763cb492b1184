import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
@testable import RadonStorage
import RadonWire

/// A stand-in for the metadata service's node registry: it records what storage daemons say and
/// can forget them, as a metadata service restored from an old state would.
private final class FakeRegistry: Sendable {
    struct State {
        var registrations: [RegisterNodeRequest] = []
        var heartbeats: [HeartbeatRequest] = []
        var known: Set<UInt32> = []
    }

    let state = Mutex(State())

    func handle(_ request: WireRequest) -> WireResponse {
        do {
            switch MetaOpcode(rawValue: request.opcode) {
            case .registerNode:
                let message = try request.decode(RegisterNodeRequest.self)
                state.withLock {
                    $0.registrations.append(message)
                    $0.known.insert(5)
                }
                return .ok(NodeAcknowledgement(nodeID: 5, previousState: .up, mapEpoch: 1))
            case .heartbeat:
                let message = try request.decode(HeartbeatRequest.self)
                let known = state.withLock {
                    $0.heartbeats.append(message)
                    return $0.known.contains(message.nodeID)
                }
                return known ? .ok(NodeAcknowledgement(nodeID: message.nodeID, previousState: .up, mapEpoch: 1))
                    : .failure(.notFound, "no node \(message.nodeID)")
            default:
                return .failure(.unsupported, "opcode \(request.opcode)")
            }
        } catch {
            return .failure(for: error)
        }
    }
}

@Suite struct NodeRegistrationTests {
    @Test func daemonRegistersHeartbeatsAndRegistersAgainWhenForgotten() async throws {
        let key = ClusterKey.generate()
        let registry = FakeRegistry()
        let meta = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: Logger(label: "fake-meta")) { request in
            registry.handle(request)
        }
        defer { Task { try await meta.close() } }
        let directory = temporaryDirectory("registration")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "test.registration")
        logger.logLevel = .warning
        let daemon = try await StorageDaemon.start(.init(
            directory: directory, listen: WireAddress(host: "127.0.0.1", port: 0), credentials: .sharedKey(key),
            metaAddress: meta.localAddress, hostID: "rack-1", heartbeatInterval: .milliseconds(100)
        ), logger: logger)

        func waitUntil(_ condition: (FakeRegistry.State) -> Bool) async throws -> Bool {
            for _ in 0..<100 {
                if registry.state.withLock({ condition($0) }) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        #expect(try await waitUntil { $0.registrations.count == 1 && $0.heartbeats.count >= 2 })
        let registration = try #require(registry.state.withLock { $0.registrations.first })
        #expect(registration.uuid == daemon.uuid)
        #expect(registration.address == daemon.address)
        #expect(registration.hostID == "rack-1")
        #expect(registration.dataDirectory == directory)
        #expect(registration.capacity > 0 && registration.free > 0)
        #expect(registry.state.withLock { $0.heartbeats.allSatisfy { $0.nodeID == 5 && $0.capacity > 0 } })

        // The registry forgets the node: the next heartbeat fails and the daemon registers again.
        registry.state.withLock { $0.known.removeAll() }
        #expect(try await waitUntil { $0.registrations.count >= 2 })
        #expect(registry.state.withLock { $0.registrations.allSatisfy { $0.uuid == daemon.uuid } })

        await daemon.stop()
        let afterStop = registry.state.withLock { $0.heartbeats.count }
        try await Task.sleep(for: .milliseconds(400))
        #expect(registry.state.withLock { $0.heartbeats.count } <= afterStop + 1)
    }
}
