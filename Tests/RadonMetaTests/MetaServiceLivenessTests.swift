import Foundation
import Logging
import RadonMeta
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// Transitions the service reported through its hook.
final class TransitionLog: Sendable {
    private let entries = Mutex<[NodeStateTransition]>([])
    func append(_ transition: NodeStateTransition) { entries.withLock { $0.append(transition) } }
    var all: [NodeStateTransition] { entries.withLock { $0 } }
}

@Suite("Metadata service: liveness")
struct MetaServiceLivenessTests {
    @Test(arguments: TestEngine.all) func sweepsAndHeartbeatsReachTheTransitionHook(_ engine: TestEngine) async throws {
        let fixture = try await StoreFixture(engine)
        let log = TransitionLog()
        var logger = Logger(label: "test.liveness")
        logger.logLevel = .critical
        let service = MetaService(
            store: fixture.store, logger: logger, liveness: LivenessSettings(downAfter: 2, lostAfter: 10),
            clock: { fixture.clock.now }, onTransition: { log.append($0) })
        let ids = try await fixture.registerNodes(2)

        fixture.clock.advance(seconds: 1)
        #expect(try await service.sweepLivenessOnce().isEmpty)
        fixture.clock.advance(seconds: 2)
        let down = try await service.sweepLivenessOnce()
        #expect(Set(down.map(\.nodeID)) == Set(ids))
        fixture.clock.advance(seconds: 10)
        _ = try await service.sweepLivenessOnce()
        #expect(try await fixture.store.nodes().allSatisfy { $0.state == .lost })

        // A heartbeat through the wire handler brings a node back and reports it.
        let request = WireRequest(opcode: MetaOpcode.heartbeat.rawValue, payload: HeartbeatRequest(nodeID: ids[0], capacity: 1, free: 1, fragmentCount: 0).encoded())
        let response = await service.handle(request)
        #expect(response.status == .ok)
        let acknowledgement = try NodeAcknowledgement(decoding: response.payload)
        #expect(acknowledgement.previousState == .lost)

        let transitions = log.all
        #expect(transitions.filter { $0.to == .down }.count == 2)
        #expect(transitions.filter { $0.to == .lost }.count == 2)
        #expect(transitions.last == NodeStateTransition(nodeID: ids[0], from: .lost, to: .up, at: fixture.clock.now))
    }

    @Test func sweepIntervalFollowsDownAfter() {
        #expect(LivenessSettings(downAfter: 6).sweepInterval == .seconds(1))
        #expect(LivenessSettings(downAfter: 1).sweepInterval == .milliseconds(250))
        #expect(LivenessSettings(downAfter: 0.1).sweepInterval == .milliseconds(100))
        #expect(LivenessSettings(downAfter: 5, lostAfter: 1).lostAfter == 5, "lost never comes before down")
    }
}
