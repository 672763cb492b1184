import Logging
import NIOCore
import RadonMeta
import RadonWire
import Synchronization
import RadonTestSupport
import Testing

/// The gate every request of a metadata server passes: standby, active within its lease, and a
/// term that ends under a request.
@Suite("The active/standby gate")
struct MetaServerRoleTests {
    static let request = WireRequest(opcode: MetaOpcode.status.rawValue, payload: ByteBuffer())

    /// Counts the terms opened and closed and the requests each answered.
    final class Terms: Sendable {
        let opened = Mutex<[Int64?]>([])
        let closed = Mutex(0)
        /// When set, a request waits here until `release()`: a request in flight while its term ends.
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holdRequests: Bool

        init(holdRequests: Bool = false) {
            self.holdRequests = holdRequests
        }

        func open(_ epoch: Int64?) -> ActiveTerm {
            opened.withLock { $0.append(epoch) }
            return ActiveTerm(
                epoch: epoch,
                handle: { [self] _ in
                    guard holdRequests else { return .ok() }
                    await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
                    return .failure(.internalError, "the store was closed under the request")
                },
                background: { while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) } },
                close: { [self] in closed.withLock { $0 += 1 } })
        }

        func release() {
            gate.withLock { $0?.resume(); $0 = nil }
        }

        var waiting: Bool { gate.withLock { $0 != nil } }
    }

    func role(_ terms: Terms) -> MetaServerRole {
        MetaServerRole(logger: Logger(label: "test.role")) { epoch in terms.open(epoch) }
    }

    @Test("A standby answers notActive and opens no term")
    func standbyAnswersNotActive() async {
        let terms = Terms()
        let response = await role(terms).handle(Self.request)
        #expect(response.status == .notActive)
        #expect(terms.opened.withLock { $0 }.isEmpty)
    }

    @Test("An elected server serves until its lease runs out by its own clock, before any deposal")
    func servesOnlyWithinTheLease() async throws {
        let terms = Terms()
        let role = role(terms)
        #expect(await role.elected(epoch: 7, validUntil: .now + .milliseconds(300)))
        #expect(terms.opened.withLock { $0 } == [7])
        #expect(await role.handle(Self.request).status == .ok)
        try await Task.sleep(for: .milliseconds(400))
        #expect(await role.handle(Self.request).status == .notActive)
        role.renewed(validUntil: .now + .seconds(10))
        #expect(await role.handle(Self.request).status == .ok)
    }

    @Test("Deposal ends the term (closed once) and each takeover opens a fresh one")
    func eachTakeoverOpensAFreshTerm() async {
        let terms = Terms()
        let role = role(terms)
        #expect(await role.elected(epoch: 1, validUntil: .now + .seconds(10)))
        await role.deposed(reason: "test")
        #expect(await role.handle(Self.request).status == .notActive)
        #expect(terms.closed.withLock { $0 } == 1)
        #expect(await role.elected(epoch: 2, validUntil: .now + .seconds(10)))
        #expect(terms.opened.withLock { $0 } == [1, 2])
        #expect(await role.handle(Self.request).status == .ok)
        await role.stop()
        #expect(terms.closed.withLock { $0 } == 2)
    }

    @Test("A request that fails because its term ended under it answers notActive, so the client retries elsewhere")
    func failureOfAnEndedTermIsNotActive() async throws {
        let terms = Terms(holdRequests: true)
        let role = role(terms)
        #expect(await role.elected(epoch: 1, validUntil: .now + .seconds(10)))
        async let response = role.handle(Self.request)
        try await poll("the request to be in flight", timeout: .seconds(5), interval: .milliseconds(5)) { terms.waiting }
        await role.deposed(reason: "test")
        terms.release()
        #expect(await response.status == .notActive)
    }

    @Test("A lone server is active without a lease")
    func loneServerIsActive() async throws {
        let terms = Terms()
        let role = role(terms)
        try await role.activateAlone()
        #expect(terms.opened.withLock { $0 } == [nil])
        #expect(await role.handle(Self.request).status == .ok)
    }
}
