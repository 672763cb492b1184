import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import RadonWire
import ServiceLifecycle

/// The web console of one metadata server: a page (`GET /`), the cluster's state as JSON
/// (`GET /api/state`, what the page polls each second), and admin actions (`POST /api/rebuild`,
/// `/api/scrub`, either with `?rate=MB/s` per worker, and `/api/nodes/ID/remove`) for a request
/// that carries the admin token.
///
/// Read-only by default: without `adminToken` every action answers 403, and reading needs no
/// credential, so it listens on 127.0.0.1 unless told otherwise (reach it through an SSH tunnel,
/// or `--console-listen` a routable address). With `tls` it serves HTTPS only: the launcher
/// requires it where an admin token would cross a network (`ConsoleOptions`). It calls the metadata
/// service in-process (`InProcessMetaTransport`), so it sees exactly what a remote client sees,
/// a standby included.
public struct ConsoleServer: Service {
    let application: Application<RouterResponder<BasicRequestContext>>
    let watcher: ConsoleWatcher

    /// - Parameters:
    ///   - linkHost: the host name to give out in links when `host` is a wildcard (0.0.0.0, ::),
    ///     which no browser can open: the metadata server's advertised host.
    ///   - onListening: called with `host:port` once the socket is bound (for a port file and the
    ///     log; with port 0 the real port; `linkHost` in place of a wildcard host).
    public init(
        host: String, port: Int, linkHost: String? = nil, meta: MetaClient, adminToken: ConsoleAdminToken?, tls: TLSConfiguration? = nil,
        interval: Duration = .seconds(1), logger: Logger, onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) throws {
        let shownHost = WireAddress.isWildcard(host: host) ? linkHost ?? host : host
        let watcher = ConsoleWatcher(meta: meta, interval: interval, logger: logger)
        let routes = ConsoleRoutes(meta: meta, watcher: watcher, adminToken: adminToken)
        let scheme = tls == nil ? "http" : "https"
        application = Application(
            router: routes.router(),
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "radonfs-console"),
            onServerRunning: { channel in
                let bound = WireAddress(host: shownHost, port: channel.localAddress?.port ?? port).description
                logger.notice("console at \(scheme)://\(bound)/\(adminToken == nil ? " (read-only)" : "")")
                await onListening(bound)
            },
            logger: logger)
        self.watcher = watcher
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await cancelWhenGracefulShutdown { await watcher.run() } }
            group.addTask { try await application.runService() }
        }
    }
}

/// The console's routes over the watcher and the metadata client.
struct ConsoleRoutes: Sendable {
    let meta: MetaClient
    let watcher: ConsoleWatcher
    let adminToken: ConsoleAdminToken?

    /// What an action answers: the sentence the page shows.
    struct ActionReply: ResponseCodable {
        var ok: Bool
        var message: String
    }

    struct Session: ResponseCodable {
        var isAdmin: Bool
        var canBeAdmin: Bool
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ConsolePage.html)))
        }
        router.get("/api/state") { _, _ in await watcher.snapshot() }
        router.get("/api/session") { request, _ in
            Session(isAdmin: isAdmin(request), canBeAdmin: adminToken != nil)
        }
        router.post("/api/rebuild") { request, _ in
            let rate = try rateLimit(request)
            return try await act(request, what: "rebuild") {
                let status = try await meta.startHealing(.rebuild, rateLimit: rate)
                let groups = status.jobs.filter { $0.runID == status.runID }.count
                return groups == 0 ? "Nothing to rebuild: every position is on an up node, and no repair is waiting."
                    : "Rebuild run \(status.runID) started: \(groups) placement groups."
            }
        }
        router.post("/api/scrub") { request, _ in
            let rate = try rateLimit(request)
            return try await act(request, what: "scrub") {
                let status = try await meta.startHealing(.scrub, rateLimit: rate)
                return "Scrub run \(status.runID) started: \(status.jobs.filter { $0.runID == status.runID }.count) placement groups."
            }
        }
        router.post("/api/nodes/:id/remove") { request, context in
            let id = try context.parameters.require("id", as: UInt32.self)
            return try await act(request, what: "remove node \(id)") {
                let status = try await meta.nodeCommand(NodeCommandRequest(action: .remove, nodeID: id))
                return "Node \(id) is being emptied: run \(status.runID) moves its positions to other nodes."
            }
        }
        return router
    }

    /// `?rate=MB/s` per worker, as `radonfs rebuild --rate` (absent: unlimited).
    func rateLimit(_ request: Request) throws -> UInt64 {
        guard let text = request.uri.queryParameters["rate"] else { return 0 }
        guard let rate = Double(String(text)), rate >= 0, rate.isFinite else {
            throw HTTPError(.badRequest, message: "rate is megabytes per second, a number of 0 or more")
        }
        return UInt64(rate * 1e6)
    }

    func isAdmin(_ request: Request) -> Bool {
        adminToken?.authorizes(request.headers[.authorization]) ?? false
    }

    /// Runs an admin action: 403 without the token; the service's refusal is a 409 with its
    /// sentence (a node that cannot be removed, say), and either way an event records it.
    func act(_ request: Request, what: String, _ action: () async throws -> String) async throws -> ActionReply {
        guard isAdmin(request) else {
            throw HTTPError(.forbidden, message: adminToken == nil
                ? "This console is read-only: start the metadata service with --console-admin-token-file to allow admin actions."
                : "Admin actions need the admin token (Authorization: Bearer TOKEN).")
        }
        let now = Date().timeIntervalSince1970
        do {
            let message = try await action()
            await watcher.record(ClusterEvent(time: now, kind: .adminAction, message: "Admin: \(message)"))
            return ActionReply(ok: true, message: message)
        } catch {
            let message = "Admin \(what) refused: \(error)"
            await watcher.record(ClusterEvent(time: now, kind: .adminAction, isWarning: true, message: message))
            throw HTTPError(.conflict, message: message)
        }
    }
}

extension ConsoleSnapshot: ResponseEncodable {}
