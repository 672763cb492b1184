import Logging
import Metrics
import NIOCore
import Synchronization

/// The metadata transport clients ride through outages with: every metadata address, and
/// retries until `rideThrough` has passed since a call's first failure.
///
/// A call that meets a transport failure (refused, closed, `.unavailable`, a server gone silent
/// under `silenceWatch`), a `.notActive` reply (a standby, or an active deposed by a takeover)
/// or a timeout moves to the next address
/// and tries again after a short backoff (50 ms doubling to 1 s), like an NFS hard mount with a
/// limit: only when `rideThrough` (`--meta-timeout`) has passed does it fail, with the last
/// error. Any other reply, errors included, is the answer.
///
/// Retrying is safe for every opcode: reads have no effect, and each mutation the service
/// logs (`MetaOpcode.isLoggedMutation`) goes out in an `identified` envelope whose request id
/// stays the same across the call's retries, so a retry of one that had committed gets the
/// reply it had then. Requests on the service's memory (sessions, tokens, locks) need no id:
/// a restart forgets them, and the client then opens a new session.
///
/// An address where a try failed slowly (`slowFailure` or more) while connecting, or with its
/// connection lost mid-call (`.unavailable`: closed, or left by its silence watch), is passed
/// over for `unreachableHold` while another address is not. That is a cut link or a vanished
/// host, whose packets vanish instead of being refused: otherwise every retry round spent the
/// whole connect timeout there, and a standby promoted meanwhile was reached up to that much
/// later. A refused connection fails at once and costs nothing, so it is not passed over; nor
/// is a `notActive` answer, nor a call that timed out on a connection that lives (a slow
/// server: storage daemons' heartbeats must not leave an overloaded active for its standby).
/// The price: an active so overloaded that a connection attempt timed out is passed over too,
/// and while the other address is a standby, calls wait up to `unreachableHold` longer for it
/// (they do not fail: the ride-through covers it).
///
/// Invariants: `state.current` indexes `addresses` (never empty); at most one "unreachable" and
/// one "back" log line per outage, whatever number of calls wait through it.
public final class MetaFailover: MetaTransport {
    /// Every metadata server, in the order tried.
    public let addresses: [WireAddress]
    /// How long calls keep retrying after their first failure.
    public let rideThrough: Duration
    /// How a call notices a server that went silent under it (frozen, or its link cut), to try
    /// the next address well before the call's timeout.
    public let silenceWatch: SilenceWatch
    /// This process's random client id, the first half of every request id.
    public let clientID: UInt64
    private let pool: WireConnectionPool
    private let logger: Logger
    private let nextSequence = Atomic<UInt64>(1)

    private struct State {
        var current = 0
        /// When the outage under way began (nil: none), and the address that failed first.
        var outageStarted: ContinuousClock.Instant?
        var outageAddress = 0
        /// Whether the give-up of this outage was logged already.
        var loggedGiveUp = false
        /// Outages begun so far.
        var outages: UInt64 = 0
        /// Addresses (by index) passed over until then, after a slow transport failure.
        var unreachableUntil: [Int: ContinuousClock.Instant] = [:]

        /// The address the next try goes to: `current`, or the first one after it that is not
        /// passed over (which becomes `current`); `current` when every address is.
        mutating func nextAddress(of count: Int, at now: ContinuousClock.Instant) -> Int {
            for step in 0..<count {
                let index = (current + step) % count
                guard let until = unreachableUntil[index], until > now else {
                    current = index
                    return index
                }
            }
            return current
        }
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - addresses: every metadata server; must not be empty.
    ///   - rideThrough: how long a call retries after its first failure before it fails.
    public init(
        addresses: [WireAddress], pool: WireConnectionPool, rideThrough: Duration = .seconds(60),
        silenceWatch: SilenceWatch = .metadata, logger: Logger
    ) {
        precondition(!addresses.isEmpty, "a metadata transport needs at least one address")
        self.addresses = addresses
        self.pool = pool
        self.rideThrough = rideThrough
        self.silenceWatch = silenceWatch
        self.logger = logger
        self.clientID = UInt64.random(in: 1...UInt64.max)
    }

    /// A transport failure at least this slow means packets vanish on the way.
    static let slowFailure = Duration.seconds(1)
    /// How long an address where a try failed slowly is passed over.
    static let unreachableHold = Duration.seconds(10)

    /// How many outages calls met so far (a failure after a success begins one). A client
    /// that saw this move cannot tell whether the service restarted meanwhile and forgot what
    /// it held (its session, data tokens), until it asked again.
    public var outageCount: UInt64 { state.withLock { $0.outages } }
    /// Calls sent again, for the mount's metrics.
    private let retries = Counter(label: "radonfs_client_meta_retries_total")

    /// The address calls go to now.
    public var currentAddress: WireAddress { addresses[state.withLock { $0.current }] }

    public func call(metaOpcode opcode: UInt8, payload: ByteBuffer, timeout: Duration) async throws -> ByteBuffer {
        let identity = MetaOpcode(rawValue: opcode)?.isLoggedMutation == true
            ? MetaRequestIdentity(client: clientID, sequence: nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue)
            : nil
        var isRetry = false
        var firstFailure: ContinuousClock.Instant?
        var backoff = Duration.milliseconds(50)
        while true {
            let count = addresses.count
            let index = state.withLock { $0.nextAddress(of: count, at: .now) }
            let address = addresses[index]
            let tried = ContinuousClock.now
            var connected = false
            let (wireOpcode, wirePayload) = envelope(opcode, payload, identity: identity, isRetry: isRetry)
            isRetry = true
            do {
                let connection = try await pool.connection(to: address)
                connected = true
                // A storage daemon's certificate could answer on a metadata address: only a
                // metadata server's may tell anyone what the namespace or the map is.
                guard connection.peer.roles.contains(.meta) else {
                    throw FailoverAnswer(error: WireError(.unauthorized, "\(address) is \(connection.peer), not a metadata server"))
                }
                // What `callFrame` throws is the transport's (closed, refused, timed out); a
                // reply's status is the server's answer, retried only when it says `notActive`
                // (`.unavailable` in a reply is an answer too: EAGAIN, "no volume yet").
                let frame = try await connection.callFrame(
                    opcode: wireOpcode, payload: wirePayload, timeout: timeout, silenceWatch: silenceWatch)
                if frame.status == WireStatus.notActive.rawValue {
                    throw WireError(status: .notActive, errorPayload: frame.payload)
                }
                // Any success ends an outage, also one whose failing calls gave up already.
                recovered(at: index)
                guard frame.status == WireStatus.ok.rawValue else {
                    guard let status = WireStatus(rawValue: frame.status) else {
                        throw FailoverAnswer(error: WireError(.internalError, "unknown reply status \(frame.status)"))
                    }
                    throw FailoverAnswer(error: WireError(status: status, errorPayload: frame.payload))
                }
                return frame.payload
            } catch let answer as FailoverAnswer {
                throw answer.error
            } catch let error as WireError where Self.isRetryable(error) {
                let now = ContinuousClock.now
                let started = firstFailure ?? now
                firstFailure = started
                if error.status != .notActive {
                    await pool.discard(address)
                    if now - tried >= Self.slowFailure, !connected || error.status == .unavailable {
                        state.withLock { $0.unreachableUntil[index] = now + Self.unreachableHold }
                    }
                }
                failed(at: index, error: error)
                retries.increment()
                guard now - started < rideThrough else {
                    giveUp(opcode, after: now - started, error: error)
                    throw error
                }
                try await Task.sleep(for: min(backoff, rideThrough - (now - started)))
                backoff = min(backoff * 2, .seconds(1))
            }
        }
    }

    /// Transport failures (thrown by the connection, not replied), standbys and timeouts:
    /// another try (here or at the next address) may succeed.
    static func isRetryable(_ error: WireError) -> Bool {
        switch error.status {
        case .unavailable, .notActive, .timedOut: true
        default: false
        }
    }

    /// The request as it goes out: a mutation the service logs wrapped with its request id
    /// (fixed once per call, so every retry carries the same one), marked as a retry after its
    /// first send.
    private func envelope(_ opcode: UInt8, _ payload: ByteBuffer, identity: MetaRequestIdentity?, isRetry: Bool) -> (UInt8, ByteBuffer) {
        guard let identity else { return (opcode, payload) }
        return (MetaOpcode.identified.rawValue, IdentifiedRequest(identity: identity, isRetry: isRetry, opcode: opcode, payload: payload).encoded())
    }

    /// A call failed at `addresses[index]`: the next call (this one's retry included) goes to
    /// the next address, unless another call moved on already. The first failure of an outage
    /// is logged.
    private func failed(at index: Int, error: WireError) {
        let (isFirst, next) = state.withLock { state -> (Bool, Int) in
            if state.current == index { state.current = (index + 1) % addresses.count }
            guard state.outageStarted == nil else { return (false, state.current) }
            state.outageStarted = .now
            state.outageAddress = index
            state.loggedGiveUp = false
            state.outages &+= 1
            return (true, state.current)
        }
        if isFirst {
            logger.warning("metadata service unreachable; retrying", metadata: [
                "meta": "\(addresses[index])", "next": "\(addresses[next])", "error": "\(error)",
                "for-up-to": "\(rideThrough)",
            ])
        }
    }

    /// A call succeeded at `addresses[index]`: the end of an outage under way is logged once,
    /// saying whether calls failed over to another server.
    private func recovered(at index: Int) {
        let address = addresses[index]
        let outage = state.withLock { state -> (Duration, WireAddress)? in
            defer { state.outageStarted = nil }
            state.unreachableUntil[index] = nil
            return state.outageStarted.map { (ContinuousClock.now - $0, addresses[state.outageAddress]) }
        }
        guard let (duration, failed) = outage else { return }
        if failed == address {
            logger.notice("metadata service reachable again", metadata: ["meta": "\(address)", "after": "\(duration)"])
        } else {
            logger.notice("failed over to another metadata server", metadata: ["meta": "\(address)", "from": "\(failed)", "after": "\(duration)"])
        }
    }

    private func giveUp(_ opcode: UInt8, after waited: Duration, error: WireError) {
        let isFirst = state.withLock { state in
            defer { state.loggedGiveUp = true }
            return !state.loggedGiveUp
        }
        if isFirst {
            logger.error("metadata service unreachable for too long: calls fail (EIO at a mount) until it answers", metadata: [
                "op": "\(MetaOpcode(rawValue: opcode).map { "\($0)" } ?? "0x\(String(opcode, radix: 16))")", "waited": "\(waited)", "error": "\(error)",
            ])
        }
    }
}

/// A reply that is the server's answer (an error status other than `notActive`), carried past
/// the retry clause that would otherwise take its status for a transport failure.
private struct FailoverAnswer: Error {
    var error: WireError
}
