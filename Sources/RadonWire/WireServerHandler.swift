import Logging
import NIOCore
import NIOSSL

/// One server connection: the peer's proof (the TLS handshake and its certificate, or the
/// shared key's challenge), then every request checked against the service's `WireAccess` and
/// dispatched to its handler in its own task. Runs on the connection's event loop only.
///
/// Nothing a peer sends before it is authenticated reaches the service: with TLS the client
/// sends no frame before the server's verdict, and any frame before it closes the connection.
final class WireServerHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum State {
        case awaitingHandshake
        case awaitingAuthentication(challenge: [UInt8])
        case authenticated(WirePeer)
        case closed
    }

    private let credentials: WireCredentials
    private let access: WireAccess
    private let logger: Logger
    private let limits: WireServer.Limits
    private let connectionGuard: ConnectionGuard
    private let handler: WireServer.Handler
    private var state: State = .closed
    private var authenticationDeadline: Scheduled<Void>?
    /// Whether this connection counts in `connectionGuard`'s unauthenticated ones.
    private var isCountedUnauthenticated = false
    private var requestsInFlight = 0
    /// Reply bytes handed to the channel and not yet written to the socket: what a peer that
    /// does not read makes the server hold.
    private var unsentReplyBytes = 0
    private var isReadingPaused = false

    init(
        credentials: WireCredentials, access: WireAccess, logger: Logger, limits: WireServer.Limits, connectionGuard: ConnectionGuard,
        handler: @escaping WireServer.Handler
    ) {
        self.credentials = credentials
        self.access = access
        self.logger = logger
        self.limits = limits
        self.connectionGuard = connectionGuard
        self.handler = handler
    }

    func channelActive(context: ChannelHandlerContext) {
        guard connectionGuard.admitUnauthenticated() else {
            connectionGuard.logRefusal(
                "connection refused: \(connectionGuard.maximumUnauthenticated) connections are already authenticating", logger: logger)
            state = .closed
            context.close(promise: nil)
            return
        }
        isCountedUnauthenticated = true
        switch credentials {
        case .mutualTLS:
            state = .awaitingHandshake
        case .sharedKey:
            var generator = SystemRandomNumberGenerator()
            let challenge = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            state = .awaitingAuthentication(challenge: challenge)
            var payload = context.channel.allocator.buffer(capacity: challenge.count)
            payload.writeBytes(challenge)
            context.writeAndFlush(wrapOutboundOut(Frame(opcode: ConnectionOpcode.challenge, requestID: 0, payload: payload)), promise: nil)
        }
        // A peer that never authenticates (or sends less than a header) is not kept forever.
        authenticationDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.authenticationTimeout)) { [self] () -> Void in
            switch state {
            case .awaitingHandshake, .awaitingAuthentication: break
            case .authenticated, .closed: return
            }
            refuse("connection closed: no authentication within \(limits.authenticationTimeout)", context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        authenticationDeadline?.cancel()
        leaveUnauthenticated()
        context.fireChannelInactive()
    }

    private func leaveUnauthenticated() {
        guard isCountedUnauthenticated else { return }
        isCountedUnauthenticated = false
        connectionGuard.releaseUnauthenticated()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .awaitingHandshake = state, let verdict = credentials.peerAfterHandshake(event, context: context) else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch verdict {
        case let .success(peer): accept(peer, requestID: 0, context: context)
        case let .failure(error):
            // The channel is encrypted and authenticated by now: tell the peer why (a revoked
            // certificate, no role) before closing, so its operator reads the reason.
            let verdict = WireResponse.failure(error)
            context.write(wrapOutboundOut(Frame(
                opcode: ConnectionOpcode.authenticate, status: verdict.status.rawValue, requestID: 0, payload: verdict.payload
            )), promise: nil)
            context.flush()
            refuse("connection refused: \(error)", context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .awaitingHandshake:
            refuse("connection refused: a frame before the TLS verdict", context: context)
        case let .awaitingAuthentication(challenge):
            guard case .sharedKey(let key) = credentials, frame.opcode == ConnectionOpcode.authenticate,
                  key.isValid(authenticationCode: frame.payload.readableBytesView, for: challenge)
            else {
                refuse("connection refused: it did not prove the cluster key", context: context)
                return
            }
            accept(.sharedKey, requestID: frame.requestID, context: context)
        case let .authenticated(peer):
            dispatch(frame, from: peer, context: context)
        case .closed:
            break
        }
    }

    /// The verdict the client waits for before it sends any request.
    private func accept(_ peer: WirePeer, requestID: UInt64, context: ChannelHandlerContext) {
        state = .authenticated(peer)
        authenticationDeadline?.cancel()
        leaveUnauthenticated()
        context.writeAndFlush(wrapOutboundOut(Frame(
            opcode: ConnectionOpcode.authenticate, requestID: requestID, payload: context.channel.allocator.buffer(capacity: 0)
        )), promise: nil)
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        connectionGuard.logRefusal(reason, logger: logger)
        state = .closed
        context.close(promise: nil)
    }

    private func dispatch(_ frame: Frame, from peer: WirePeer, context: ChannelHandlerContext) {
        if ConnectionOpcode.connectionRange.contains(frame.opcode) {
            let response: WireResponse = frame.opcode == ConnectionOpcode.ping
                ? .ok(context.channel.allocator.buffer(capacity: 0))
                : .failure(.badRequest, "opcode \(frame.opcode) is only valid while connecting")
            reply(to: frame, with: response, context: context)
            return
        }
        let request = WireRequest(opcode: frame.opcode, payload: frame.payload, peer: peer)
        let allowed = access.allowedRoles(for: request)
        guard !peer.roles.isDisjoint(with: allowed) else {
            let opcode = "0x" + String(frame.opcode, radix: 16)
            reply(to: frame, with: .failure(.permissionDenied, "\(peer) may not make request \(opcode): it needs \(allowed)"), context: context)
            return
        }
        requestsInFlight += 1
        updateReading(context.channel)
        let (opcode, requestID) = (frame.opcode, frame.requestID)
        let handler = self.handler
        let channel = context.channel
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            let response = await handler(request)
            channel.eventLoop.execute {
                loopBoundSelf.value.requestFinished(opcode: opcode, requestID: requestID, response: response, channel: channel)
            }
        }
    }

    private func requestFinished(opcode: UInt8, requestID: UInt64, response: WireResponse, channel: any Channel) {
        requestsInFlight -= 1
        guard case .authenticated = state else { return }
        let frame = Frame(opcode: opcode, status: response.status.rawValue, requestID: requestID, payload: response.payload,
                          trailingPayload: response.trailingPayload)
        let size = Frame.headerLength + frame.payloadLength
        unsentReplyBytes += size
        if unsentReplyBytes > limits.maximumUnsentReplyBytes {
            // A peer that asks and never reads: it loses its connection, not the server its memory.
            logger.notice("closing connection: its unread replies passed the limit", metadata: [
                "unsent_bytes": "\(unsentReplyBytes)", "limit": "\(limits.maximumUnsentReplyBytes)",
            ])
            state = .closed
            channel.close(promise: nil)
            return
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { [self] _ in
            unsentReplyBytes -= size
            updateReading(channel)
        }
        channel.writeAndFlush(frame, promise: written)
        updateReading(channel)
    }

    /// Reads more requests only while this connection has room: fewer requests in flight than
    /// the limit and fewer unsent reply bytes than the pause threshold. It resumes at half of
    /// each, so a busy connection does not flip on every reply.
    private func updateReading(_ channel: any Channel) {
        if !isReadingPaused, requestsInFlight >= limits.maximumRequestsInFlight || unsentReplyBytes >= limits.unsentReplyBytesToPause {
            isReadingPaused = true
            try? channel.syncOptions?.setOption(.autoRead, value: false)
        } else if isReadingPaused, requestsInFlight < limits.maximumRequestsInFlight / 2, unsentReplyBytes < limits.unsentReplyBytesToPause / 2 {
            isReadingPaused = false
            try? channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    private func reply(to frame: Frame, with response: WireResponse, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Frame(
            opcode: frame.opcode, status: response.status.rawValue, requestID: frame.requestID, payload: response.payload,
            trailingPayload: response.trailingPayload
        )), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .authenticated = state, let tlsError = error as? NIOSSLError, case .uncleanShutdown = tlsError {
            // A peer that exited without TLS's close_notify (a CLI verb, a killed process): a close.
            state = .closed
            context.close(promise: nil)
            return
        }
        // Malformed headers, failed handshakes and socket errors land here: this connection is
        // done, the server is not. Before authentication anyone can cause them: rate-limited.
        if case .authenticated = state {
            logger.notice("closing connection", metadata: ["error": "\(error)"])
            state = .closed
            context.close(promise: nil)
        } else {
            refuse("closing connection: \(error)", context: context)
        }
    }
}
