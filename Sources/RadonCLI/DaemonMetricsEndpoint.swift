import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `GET /metrics` in the Prometheus text format on 127.0.0.1, as a lifecycle service closed on
/// graceful shutdown. Shared by every daemon through `DaemonRuntime`.
struct DaemonMetricsEndpoint: Service {
    let channel: any Channel

    /// The port it listens on (the real one when 0 was asked for).
    var port: Int { channel.localAddress?.port ?? 0 }

    /// - Parameter beforeScrape: runs before each `/metrics` answer (the metadata service
    ///   refreshes its cluster gauges there: no work when nobody scrapes, fresh when someone does).
    static func start(
        port: Int, registry: PrometheusCollectorRegistry, logger: Logger, beforeScrape: (@Sendable () async -> Void)? = nil
    ) async throws -> DaemonMetricsEndpoint {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DaemonMetricsHandler(registry: registry, beforeScrape: beforeScrape))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        let endpoint = DaemonMetricsEndpoint(channel: channel)
        logger.notice("metrics at http://127.0.0.1:\(endpoint.port)/metrics")
        return endpoint
    }

    func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// One HTTP exchange per connection: the registry's text for `/metrics` (after `beforeScrape`),
/// 404 otherwise.
private final class DaemonMetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let beforeScrape: (@Sendable () async -> Void)?

    init(registry: PrometheusCollectorRegistry, beforeScrape: (@Sendable () async -> Void)?) {
        self.registry = registry
        self.beforeScrape = beforeScrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .head(request) = unwrapInboundIn(data) else { return }
        let isMetrics = request.method == .GET && request.uri.split(separator: "?").first == "/metrics"
        guard isMetrics, let beforeScrape else {
            respond(context: context, request: request, isMetrics: isMetrics)
            return
        }
        let refreshed = context.eventLoop.makePromise(of: Void.self)
        refreshed.completeWithTask { await beforeScrape() }
        // Back on the channel's event loop, where the handler and its context live.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        refreshed.futureResult.whenComplete { _ in
            let (handler, context) = bound.value
            handler.respond(context: context, request: request, isMetrics: true)
        }
    }

    private func respond(context: ChannelHandlerContext, request: HTTPRequestHead, isMetrics: Bool) {
        var body = ByteBuffer()
        if isMetrics { body.writeBytes(registry.emitToBuffer()) } else { body.writeString("only /metrics is served here\n") }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: isMetrics ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: isMetrics ? .ok : .notFound, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
