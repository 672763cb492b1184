import NIOCore

/// A request on its way out: the frame and the promise its reply completes.
struct PendingCall {
    var frame: Frame
    var reply: EventLoopPromise<Frame>
    var timeout: TimeAmount
}

/// The client end of a connection: checks the server's certificate after the TLS handshake (or
/// answers its shared-key challenge), waits for its verdict, then matches replies to requests
/// by id (they may come back in any order) and fails requests that time out or that were in
/// flight when the connection closed. Runs on the connection's event loop only.
///
/// A TLS server must hold a server role (`WireRoles.servers`): a client's or an operator's
/// certificate at the other end fails the connection before anything is sent.
final class WireClientHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = PendingCall
    typealias OutboundOut = Frame

    private enum State {
        case awaitingHandshake
        case awaitingChallenge
        case awaitingVerdict(WirePeer)
        case ready
        case closed
    }

    private let credentials: WireCredentials
    private let authenticated: EventLoopPromise<WirePeer>
    private var state: State
    private var pending: [UInt64: (reply: EventLoopPromise<Frame>, timer: Scheduled<Void>)] = [:]

    init(credentials: WireCredentials, authenticated: EventLoopPromise<WirePeer>) {
        self.credentials = credentials
        self.authenticated = authenticated
        switch credentials {
        case .sharedKey: state = .awaitingChallenge
        case .mutualTLS: state = .awaitingHandshake
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .awaitingHandshake = state, let verdict = credentials.peerAfterHandshake(event, context: context) else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch verdict {
        case let .success(peer) where !peer.roles.isDisjoint(with: .servers):
            state = .awaitingVerdict(peer)
        case let .success(peer):
            fail(context: context, WireError(.unauthorized, "\(peer) is not a RadonFS server"))
        case let .failure(error):
            fail(context: context, error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .awaitingHandshake:
            fail(context: context, WireError(.badRequest, "a frame before the TLS handshake finished"))
        case .awaitingChallenge:
            guard case .sharedKey(let key) = credentials, frame.opcode == ConnectionOpcode.challenge, frame.payload.readableBytes == 32 else {
                fail(context: context, WireError(.badRequest, "the server did not open with a challenge"))
                return
            }
            var answer = context.channel.allocator.buffer(capacity: 32)
            answer.writeBytes(key.authenticationCode(for: frame.payload.readableBytesView))
            state = .awaitingVerdict(.sharedKey)
            context.writeAndFlush(wrapOutboundOut(Frame(opcode: ConnectionOpcode.authenticate, requestID: 0, payload: answer)), promise: nil)
        case let .awaitingVerdict(peer):
            guard frame.opcode == ConnectionOpcode.authenticate, frame.status == WireStatus.ok.rawValue else {
                let reason = WireError(status: .unauthorized, errorPayload: frame.payload).message
                fail(context: context, WireError(.unauthorized, "the server refused this client" + (reason.isEmpty ? "" : ": \(reason)")))
                return
            }
            state = .ready
            authenticated.succeed(peer)
        case .ready:
            guard let call = pending.removeValue(forKey: frame.requestID) else { return }  // timed out already
            call.timer.cancel()
            call.reply.succeed(frame)
        case .closed:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        guard case .ready = state else {
            call.reply.fail(WireError(.unavailable, "the connection is closed"))
            promise?.succeed(())
            return
        }
        let requestID = call.frame.requestID
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: call.timeout) { [self] () -> Void in
            pending.removeValue(forKey: requestID)?.reply.fail(WireError(.timedOut, "no reply within \(call.timeout)"))
        }
        pending[requestID] = (call.reply, timer)
        context.write(wrapOutboundOut(call.frame), promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error: WireError = switch state {
        case .awaitingHandshake, .awaitingChallenge, .awaitingVerdict:
            WireError(.unauthorized, "the server closed the connection during authentication")
        default: WireError(.unavailable, "the connection closed")
        }
        state = .closed
        authenticated.fail(error)
        failPending(error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, WireError(.unavailable, "connection error: \(error)"))
    }

    private func fail(context: ChannelHandlerContext, _ error: WireError) {
        state = .closed
        authenticated.fail(error)
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: WireError) {
        let calls = pending
        pending.removeAll()
        for call in calls.values {
            call.timer.cancel()
            call.reply.fail(error)
        }
    }
}
