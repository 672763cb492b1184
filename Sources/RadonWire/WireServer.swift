import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A listening socket speaking the RadonFS protocol: it authenticates every connection with the
/// cluster key and hands each request to `handler`, concurrently (many requests in flight per
/// connection), writing each reply as soon as it is ready.
public final class WireServer: Sendable {
    /// The signature of a service's request handler. It must not throw: failures are replies.
    public typealias Handler = @Sendable (WireRequest) async -> WireResponse

    private let serverChannel: any Channel
    private let connections: ConnectionRegistry
    private let logger: Logger
    /// The address the socket is bound to (with the real port when 0 was asked for).
    public let localAddress: WireAddress

    private init(serverChannel: any Channel, connections: ConnectionRegistry, logger: Logger) {
        self.serverChannel = serverChannel
        self.connections = connections
        self.logger = logger
        let bound = serverChannel.localAddress
        self.localAddress = WireAddress(host: bound?.ipAddress ?? "?", port: bound?.port ?? 0)
    }

    /// Binds `host:port` (port 0 picks a free one) and starts serving.
    /// - Parameter maximumRequestsInFlight: per connection; beyond it the server stops reading
    ///   from that connection until replies have gone out (backpressure, bounded memory).
    /// - Parameter authenticationTimeout: a connection that has not proved the key by then is closed.
    public static func start(
        host: String, port: Int, key: ClusterKey,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, maximumRequestsInFlight: Int = 256, authenticationTimeout: Duration = .seconds(10),
        handler: @escaping Handler
    ) async throws -> WireServer {
        let registry = ConnectionRegistry()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.recvAllocator, value: Frame.receiveAllocator)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var connectionLogger = logger
                    connectionLogger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder(firstFrameLimit: ClusterKey.byteCount)),
                        FrameEncoder(),
                        WireServerHandler(
                            key: key, logger: connectionLogger,
                            maximumRequestsInFlight: maximumRequestsInFlight, authenticationTimeout: authenticationTimeout,
                            handler: handler
                        ),
                    ])
                    registry.add(channel)
                    channel.closeFuture.whenComplete { _ in registry.remove(channel) }
                }
            }
            .bind(host: host, port: port)
            .get()
        let server = WireServer(serverChannel: channel, connections: registry, logger: logger)
        logger.debug("wire server listening", metadata: ["address": "\(server.localAddress)"])
        return server
    }

    /// Stops listening and closes every open connection; requests in flight lose their replies.
    public func close() async throws {
        try? await serverChannel.close()
        let open = connections.channels.withLock { Array($0.values) }
        for channel in open {
            try? await channel.close()
        }
    }

    /// How many client connections are open, for metrics and tests.
    public var connectionCount: Int {
        connections.channels.withLock { $0.count }
    }
}

/// The open connections of a server, so `close()` can close them all.
private final class ConnectionRegistry: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

