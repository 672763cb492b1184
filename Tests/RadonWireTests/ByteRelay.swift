import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay between a client and a server that knows no key: it forwards bytes both ways,
/// records what it saw, and, once armed, flips one bit of the next chunk in a chosen direction.
/// What an attacker on the path can do to a connection without breaking TLS. Once cut, it drops
/// every byte both ways and closes nothing, as a pulled cable or a frozen peer looks to TCP.
final class ByteRelay: Sendable {
    enum Direction: Sendable { case toServer, toClient }

    private let serverChannel: any Channel
    private let state = Mutex<(seen: [UInt8], flip: Direction?, isCut: Bool)>(([], nil, false))
    var address: (host: String, port: Int) { ("127.0.0.1", serverChannel.localAddress?.port ?? 0) }

    private init(serverChannel: any Channel) {
        self.serverChannel = serverChannel
    }

    /// Listens on a free loopback port and relays every connection to `target`.
    static func start(to target: (host: String, port: Int)) async throws -> ByteRelay {
        let box = Mutex<ByteRelay?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: target.host, port: target.port)
                    .flatMap { outbound in
                        let relay = box.withLock { $0 }!
                        return inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(RelayHandler(peer: outbound, direction: .toServer, relay: relay))
                            try outbound.pipeline.syncOperations.addHandler(RelayHandler(peer: inbound, direction: .toClient, relay: relay))
                            // Reading starts only now: nothing arrives before there is somewhere to send it.
                            try inbound.syncOptions?.setOption(.autoRead, value: true)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let relay = ByteRelay(serverChannel: channel)
        box.withLock { $0 = relay }
        return relay
    }

    /// Flips a bit in the next chunk relayed in `direction`.
    func arm(_ direction: Direction) {
        state.withLock { $0.flip = direction }
    }

    /// From now on nothing passes either way, and no connection is closed.
    func cut() {
        state.withLock { $0.isCut = true }
    }

    /// Every byte relayed so far, both directions.
    var seenBytes: [UInt8] { state.withLock { $0.seen } }

    func close() async {
        try? await serverChannel.close()
    }

    /// Whether `buffer` goes on (false once cut), flipping a bit of it when armed to.
    fileprivate func pass(_ buffer: inout ByteBuffer, _ direction: Direction) -> Bool {
        state.withLock { state in
            guard !state.isCut else { return false }
            state.seen += buffer.readableBytesView
            if state.flip == direction, buffer.readableBytes > 0 {
                let index = buffer.readerIndex + buffer.readableBytes / 2
                buffer.setInteger(buffer.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
                state.flip = nil
            }
            return true
        }
    }
}

private final class RelayHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let peer: any Channel
    let direction: ByteRelay.Direction
    let relay: ByteRelay

    init(peer: any Channel, direction: ByteRelay.Direction, relay: ByteRelay) {
        self.peer = peer
        self.direction = direction
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard relay.pass(&buffer, direction) else { return }
        peer.writeAndFlush(buffer, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
