import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A listening socket speaking the RadonFS protocol: it authenticates every connection (mutual
/// TLS, or the shared key with `--insecure`), checks every request against `access`, and hands
/// it to `handler`, concurrently (many requests in flight per connection), writing each reply
/// as soon as it is ready.
public final class WireServer: Sendable {
    /// The signature of a service's request handler. It must not throw: failures are replies.
    public typealias Handler = @Sendable (WireRequest) async -> WireResponse

    /// What one connection may hold of the server, and how long it has to authenticate.
    public struct Limits: Sendable {
        /// Requests running at once per connection; past it the server stops reading from it.
        public var maximumRequestsInFlight: Int
        /// Unsent reply bytes at which the server stops reading from a connection (until half
        /// of them have gone out): a peer that does not read its replies stops being served.
        public var unsentReplyBytesToPause: Int
        /// Unsent reply bytes at which the connection is closed: the requests in flight when
        /// reading paused finish and queue their replies, and a peer that still does not read
        /// loses the connection rather than the server its memory.
        public var maximumUnsentReplyBytes: Int
        /// Connections that have not authenticated yet, over the whole server; more are closed at once.
        public var maximumUnauthenticated: Int
        /// A connection that has not authenticated by then is closed.
        public var authenticationTimeout: Duration

        public init(
            maximumRequestsInFlight: Int = 256, unsentReplyBytesToPause: Int = 4 << 20, maximumUnsentReplyBytes: Int = 128 << 20,
            maximumUnauthenticated: Int = 128, authenticationTimeout: Duration = .seconds(2)
        ) {
            self.maximumRequestsInFlight = maximumRequestsInFlight
            self.unsentReplyBytesToPause = unsentReplyBytesToPause
            self.maximumUnsentReplyBytes = maximumUnsentReplyBytes
            self.maximumUnauthenticated = maximumUnauthenticated
            self.authenticationTimeout = authenticationTimeout
        }
    }

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
    /// - Parameter access: which roles may make each request (test servers default to everyone).
    /// - Parameter limits: what one connection may hold (backpressure, bounded memory) and how
    ///   long it has to authenticate.
    public static func start(
        host: String, port: Int, credentials: WireCredentials, access: WireAccess = .everyone,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger, limits: Limits = Limits(),
        handler: @escaping Handler
    ) async throws -> WireServer {
        let registry = ConnectionRegistry()
        let connectionGuard = ConnectionGuard(maximumUnauthenticated: limits.maximumUnauthenticated)
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
                    // With the shared key the first frame is the key's proof, held to its size; with
                    // TLS no frame comes before the certificate was verified.
                    var firstFrameLimit: Int? = ClusterKey.byteCount
                    if case .mutualTLS(let identity) = credentials {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: identity.serverContext))
                        firstFrameLimit = nil
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        FrameDecoder(firstFrameLimit: firstFrameLimit, slicesReceivedBuffers: !credentials.usesTLS),
                        FrameEncoder(),
                        WireServerHandler(
                            credentials: credentials, access: access, logger: connectionLogger,
                            limits: limits, connectionGuard: connectionGuard, handler: handler
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

