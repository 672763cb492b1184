import RadonWire

/// Identified mutations: a request id wraps the request (`MetaOpcode.identified`), and the
/// operation log answers a retry of a request that committed (see `OperationLog`).
extension MetaService {
    /// Runs the inner request of an `identified` envelope under its request id. A retry that
    /// arrives while the first attempt still runs (the client timed out, or its connection
    /// dropped, while this service kept going) waits for that attempt and gets its reply: the
    /// log could not answer it yet, and a second run would fail (EEXIST for a create).
    func handleIdentified(_ request: WireRequest) async -> WireResponse {
        let envelope: IdentifiedRequest
        do {
            envelope = try request.decode(IdentifiedRequest.self)
        } catch {
            return .failure(for: error)
        }
        guard let inner = MetaOpcode(rawValue: envelope.opcode), inner.isLoggedMutation else {
            return .failure(.badRequest, "opcode 0x\(String(envelope.opcode, radix: 16)) cannot be identified")
        }
        return await identifiedRequests.run(envelope.identity) {
            await OperationLog.$request.withValue(LoggedRequest(identity: envelope.identity, isRetry: envelope.isRetry)) {
                await self.handle(WireRequest(opcode: envelope.opcode, payload: envelope.payload, peer: request.peer))
            }
        }
    }

    /// Trims the operation log every minute until cancelled.
    public func runOperationLogTrims() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(60))
            let cutoff = WallClock.nanosecondsSinceEpoch() - OperationLog.retention.nanoseconds
            do {
                let trimmed = try await store.trimOperationLog(before: cutoff)
                if trimmed > 0 { logger.debug("operation log trimmed", metadata: ["rows": "\(trimmed)"]) }
            } catch {
                logger.warning("operation log not trimmed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// The identified requests running now, so that a duplicate joins the running one, and the
/// replies of the last `rememberedCount` that finished here.
///
/// The remembered replies answer a first attempt that arrives after its own retry finished
/// (the two came on different connections, and the retry's overtook): the operation log is
/// consulted only for retries, so without them that first attempt would run again (EEXIST for
/// a create) although its request committed.
actor IdentifiedRequests {
    static let rememberedCount = 4096

    private var running: [MetaRequestIdentity: Task<WireResponse, Never>] = [:]
    private var finished: [MetaRequestIdentity: WireResponse] = [:]
    /// `finished`'s keys, oldest first.
    private var finishedOrder: [MetaRequestIdentity] = []
    private var oldest = 0

    func run(_ identity: MetaRequestIdentity, _ body: @escaping @Sendable () async -> WireResponse) async -> WireResponse {
        if let attempt = running[identity] { return await attempt.value }
        if let reply = finished[identity] { return reply }
        let attempt = Task { await body() }
        running[identity] = attempt
        let response = await attempt.value
        running[identity] = nil
        if !Self.isTransient(response.status) { remember(response, for: identity) }
        return response
    }

    /// Failures a later attempt may not meet (the server stepped down, the database went
    /// away): never remembered, so a retry runs again.
    static func isTransient(_ status: WireStatus) -> Bool {
        [.notActive, .unavailable, .internalError, .timedOut].contains(status)
    }

    private func remember(_ response: WireResponse, for identity: MetaRequestIdentity) {
        if finishedOrder.count < Self.rememberedCount {
            finishedOrder.append(identity)
        } else {
            finished[finishedOrder[oldest]] = nil
            finishedOrder[oldest] = identity
            oldest = (oldest + 1) % Self.rememberedCount
        }
        finished[identity] = response
    }
}
