import Logging
import NIOCore

/// One server connection: the challenge, the key check, then every request dispatched to the
/// service's handler in its own task. Runs on the connection's event loop only.
final class WireServerHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum State {
        case awaitingAuthentication(challenge: [UInt8])
        case authenticated
        case closed
    }

    private let key: ClusterKey
    private let logger: Logger
    private let maximumRequestsInFlight: Int
    private let authenticationTimeout: TimeAmount
    private let handler: WireServer.Handler
    private var state: State = .closed
    private var authenticationDeadline: Scheduled<Void>?
    private var requestsInFlight = 0
    private var isReadingPaused = false

    init(key: ClusterKey, logger: Logger, maximumRequestsInFlight: Int, authenticationTimeout: Duration, handler: @escaping WireServer.Handler) {
        self.key = key
        self.logger = logger
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.authenticationTimeout = TimeAmount(authenticationTimeout)
        self.handler = handler
    }

    func channelActive(context: ChannelHandlerContext) {
        var generator = SystemRandomNumberGenerator()
        let challenge = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        state = .awaitingAuthentication(challenge: challenge)
        var payload = context.channel.allocator.buffer(capacity: challenge.count)
        payload.writeBytes(challenge)
        context.writeAndFlush(wrapOutboundOut(Frame(opcode: ConnectionOpcode.challenge, requestID: 0, payload: payload)), promise: nil)
        // A peer that never authenticates (or sends less than a header) is not kept forever.
        authenticationDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: authenticationTimeout) { [self] () -> Void in
            guard case .awaitingAuthentication = state else { return }
            logger.notice("connection closed: no authentication in time")
            state = .closed
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        authenticationDeadline?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case let .awaitingAuthentication(challenge):
            guard frame.opcode == ConnectionOpcode.authenticate,
                  key.isValid(authenticationCode: frame.payload.readableBytesView, for: challenge)
            else {
                logger.notice("connection refused: it did not prove the cluster key")
                state = .closed
                context.close(promise: nil)
                return
            }
            state = .authenticated
            authenticationDeadline?.cancel()
            context.writeAndFlush(wrapOutboundOut(Frame(
                opcode: ConnectionOpcode.authenticate, requestID: frame.requestID, payload: context.channel.allocator.buffer(capacity: 0)
            )), promise: nil)
        case .authenticated:
            dispatch(frame, context: context)
        case .closed:
            break
        }
    }

    private func dispatch(_ frame: Frame, context: ChannelHandlerContext) {
        if ConnectionOpcode.connectionRange.contains(frame.opcode) {
            let response: WireResponse = frame.opcode == ConnectionOpcode.ping
                ? .ok(context.channel.allocator.buffer(capacity: 0))
                : .failure(.badRequest, "opcode \(frame.opcode) is only valid while connecting")
            reply(to: frame, with: response, context: context)
            return
        }
        requestsInFlight += 1
        if requestsInFlight >= maximumRequestsInFlight, !isReadingPaused {
            isReadingPaused = true
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        }
        let request = WireRequest(opcode: frame.opcode, payload: frame.payload)
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
        if isReadingPaused, requestsInFlight < maximumRequestsInFlight / 2 {
            isReadingPaused = false
            try? channel.syncOptions?.setOption(.autoRead, value: true)
        }
        guard case .authenticated = state else { return }
        channel.writeAndFlush(Frame(opcode: opcode, status: response.status.rawValue, requestID: requestID, payload: response.payload), promise: nil)
    }

    private func reply(to frame: Frame, with response: WireResponse, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Frame(
            opcode: frame.opcode, status: response.status.rawValue, requestID: frame.requestID, payload: response.payload
        )), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed headers and socket errors land here: this connection is done, the server is not.
        logger.notice("closing connection", metadata: ["error": "\(error)"])
        state = .closed
        context.close(promise: nil)
    }
}
