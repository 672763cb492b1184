import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// An authenticated connection to a daemon, carrying many requests at once.
///
/// Every `call` gets a fresh request id; replies are matched by id, so callers on many tasks
/// share one connection without waiting for each other. A connection that closes fails every
/// call in flight with `.unavailable`; it is not reopened (`WireConnectionPool` does that).
public final class WireConnection: Sendable {
    private let channel: any Channel
    private let nextRequestID = Atomic<UInt64>(1)
    /// Set by `close()`, so the connection reads as inactive at once, not when the event loop
    /// has got round to closing the socket.
    private let isClosedByCaller = Atomic<Bool>(false)
    /// The daemon this connection goes to.
    public let address: WireAddress
    /// Who answered: its certificate's name and role (`WirePeer.sharedKey` with `--insecure`).
    public let peer: WirePeer

    private init(channel: any Channel, address: WireAddress, peer: WirePeer) {
        self.channel = channel
        self.address = address
        self.peer = peer
    }

    /// Connects and authenticates with `credentials`, within `timeout` for both.
    /// Throws `.unavailable` when nothing answers, `.unauthorized` when either end refuses the
    /// other, `.timedOut` when the handshake does not finish in time.
    public static func connect(
        to address: WireAddress, credentials: WireCredentials,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: Duration = .seconds(5)
    ) async throws -> WireConnection {
        let eventLoop = group.next()
        let authenticated = eventLoop.makePromise(of: WirePeer.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.recvAllocator, value: Frame.receiveAllocator)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if case .mutualTLS(let identity) = credentials {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: identity.clientContext, serverHostname: nil))
                        }
                        try channel.pipeline.syncOperations.addHandlers([
                            FrameDecoder(slicesReceivedBuffers: !credentials.usesTLS),
                            FrameEncoder(),
                            WireClientHandler(credentials: credentials, authenticated: authenticated),
                        ])
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            authenticated.fail(error)
            throw WireError(.unavailable, "cannot connect to \(address): \(error)")
        }
        let deadline = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            authenticated.fail(WireError(.timedOut, "\(address) did not complete authentication within \(timeout)"))
            channel.close(promise: nil)
        }
        let peer: WirePeer
        do {
            peer = try await authenticated.futureResult.get()
            deadline.cancel()
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            throw error as? WireError ?? WireError(.unavailable, "\(address): \(error)")
        }
        return WireConnection(channel: channel, address: address, peer: peer)
    }

    /// Whether the connection is still open.
    public var isActive: Bool { !isClosedByCaller.load(ordering: .relaxed) && channel.isActive }

    /// Sends one request and waits for its reply payload.
    /// Throws the server's `WireError` on a non-ok status, `.timedOut` when no reply comes within
    /// `timeout`, `.unavailable` when the connection is or becomes closed.
    ///
    /// With `abandonedOnCancel` (requests without side effects: reads) the call throws
    /// `CancellationError` as soon as the calling task is cancelled, instead of waiting for the
    /// reply or the timeout. Other calls wait whatever happens to their caller: a mutation sent
    /// must not look failed while it may have been applied.
    ///
    /// `trailingPayload` follows `payload` on the wire, each buffer sent as it is (not copied).
    public func call(
        opcode: UInt8, payload: ByteBuffer, trailingPayload: [ByteBuffer] = [], timeout: Duration = .seconds(30), abandonedOnCancel: Bool = false
    ) async throws -> ByteBuffer {
        let frame = try await callFrame(
            opcode: opcode, payload: payload, trailingPayload: trailingPayload, timeout: timeout, abandonedOnCancel: abandonedOnCancel
        )
        guard frame.status == WireStatus.ok.rawValue else {
            guard let status = WireStatus(rawValue: frame.status) else {
                throw WireError(.internalError, "unknown reply status \(frame.status)")
            }
            throw WireError(status: status, errorPayload: frame.payload)
        }
        return frame.payload
    }

    /// Sends a typed request and decodes the typed reply.
    public func call<Request: WireMessage, Response: WireMessage>(
        _ opcode: UInt8, _ request: Request, timeout: Duration = .seconds(30), abandonedOnCancel: Bool = false
    ) async throws -> Response {
        var payload = channel.allocator.buffer(capacity: 64)
        request.encode(into: &payload)
        return try Response(decoding: try await call(opcode: opcode, payload: payload, timeout: timeout, abandonedOnCancel: abandonedOnCancel))
    }

    /// Round trip of the connection layer's own ping (answered without reaching the service).
    public func ping(timeout: Duration = .seconds(5)) async throws {
        _ = try await call(opcode: ConnectionOpcode.ping, payload: ByteBuffer(), timeout: timeout)
    }

    /// Sends a frame as it is and returns the reply frame whatever its status; for tests and tools
    /// that need to see raw statuses.
    ///
    /// With a `silenceWatch`, a server that stops sending anything (frozen, or cut off without
    /// a reset) is pinged, and the connection closed with `.unavailable` when the ping goes
    /// unanswered too, long before `timeout`.
    public func callFrame(
        opcode: UInt8, payload: ByteBuffer, trailingPayload: [ByteBuffer] = [], timeout: Duration, abandonedOnCancel: Bool = false,
        silenceWatch: SilenceWatch? = nil
    ) async throws -> Frame {
        let requestID = nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue
        let reply = channel.eventLoop.makePromise(of: Frame.self)
        let call = PendingCall(
            frame: Frame(opcode: opcode, requestID: requestID, payload: payload, trailingPayload: trailingPayload), reply: reply,
            timeout: TimeAmount(timeout),
            silenceWatch: silenceWatch
        )
        channel.writeAndFlush(call).whenFailure { error in
            reply.fail(WireError(.unavailable, "cannot send to \(self.address): \(error)"))
        }
        guard abandonedOnCancel else { return try await reply.futureResult.get() }
        // A reader that stops waiting (a block decided without this node: its task group waits
        // for every child it cancelled) must not be held until the reply's timeout: the call
        // ends with a CancellationError at once. A reply arriving later completes nothing (a
        // promise keeps its first result), and the handler drops the call at its reply or its
        // timeout.
        return try await withTaskCancellationHandler {
            try await reply.futureResult.get()
        } onCancel: {
            reply.fail(CancellationError())
        }
    }

    /// Closes the connection; calls in flight fail with `.unavailable`.
    public func close() {
        isClosedByCaller.store(true, ordering: .relaxed)
        channel.close(promise: nil)
    }
}
