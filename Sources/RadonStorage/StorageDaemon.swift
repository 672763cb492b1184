#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix
import RadonWire

/// A running storage daemon: the fragment store, its wire server and (when a metadata service
/// is named) the registration loop. `radonfs storage` runs one; tests start them in-process.
public final class StorageDaemon: Sendable {
    public struct Configuration: Sendable {
        public var directory: String
        public var listen: WireAddress
        /// How it proves itself and checks its peers (mutual TLS, or the shared key with --insecure).
        public var credentials: WireCredentials
        /// Every metadata server to register with (the active one answers); empty runs the
        /// daemon alone (tests, tools).
        public var metaAddresses: [WireAddress]
        /// The failure domain: no two fragments of a block go to nodes with one host id.
        public var hostID: String
        /// The address to register; defaults to the bound address (with the real port).
        public var advertisedHost: String?
        public var heartbeatInterval: Duration

        public init(
            directory: String, listen: WireAddress, credentials: WireCredentials, metaAddress: WireAddress? = nil, metaAddresses: [WireAddress] = [],
            hostID: String? = nil, advertisedHost: String? = nil, heartbeatInterval: Duration = .seconds(2)
        ) {
            self.directory = directory
            self.listen = listen
            self.credentials = credentials
            self.metaAddresses = metaAddresses + (metaAddress.map { [$0] } ?? [])
            self.hostID = hostID ?? ProcessInfo.processInfo.hostName
            self.advertisedHost = advertisedHost
            self.heartbeatInterval = heartbeatInterval
        }
    }

    public let configuration: Configuration
    public let store: FragmentStore
    public let service: StorageService
    private let server: WireServer
    private let registration: Task<Void, Never>?
    /// This node's identity, kept in `<dir>/node.uuid` across restarts.
    public let uuid: String

    /// The address the daemon listens on (the real port when 0 was asked for).
    public var address: WireAddress { server.localAddress }

    private init(configuration: Configuration, store: FragmentStore, service: StorageService, server: WireServer, registration: Task<Void, Never>?, uuid: String) {
        self.configuration = configuration
        self.store = store
        self.service = service
        self.server = server
        self.registration = registration
        self.uuid = uuid
    }

    /// What one connection may hold of a storage daemon. Replies carry fragments (up to the
    /// 16 MiB read budget each, 1 MiB slots usually), so fewer run at once than on the metadata
    /// service: a peer that stops reading holds at most the 4 MiB pause threshold plus what its
    /// 64 requests in flight answer, and loses the connection past 128 MiB.
    public static let connectionLimits = WireServer.Limits(maximumRequestsInFlight: 64)

    /// Opens the store, starts serving and, with a metadata address, starts registering.
    public static func start(_ configuration: Configuration, logger: Logger) async throws -> StorageDaemon {
        let store = try FragmentStore(directory: configuration.directory)
        let service = StorageService(store: store, logger: logger)
        let readOnlyClients = ReadOnlyClients()
        let server: WireServer
        do {
            server = try await WireServer.start(
                host: configuration.listen.host, port: configuration.listen.port, credentials: configuration.credentials,
                access: StorageOpcode.access(ownName: configuration.credentials.identityName, readOnlyClients: readOnlyClients), logger: logger,
                limits: StorageDaemon.connectionLimits
            ) { request in
                await service.handle(request)
            }
        } catch {
            await store.shutdown()
            throw WireError(.unavailable, "cannot listen on \(configuration.listen): \(error)")
        }
        let uuid = try nodeUUID(in: configuration.directory)
        var registration: Task<Void, Never>?
        if !configuration.metaAddresses.isEmpty {
            let bound = server.localAddress
            let host = configuration.advertisedHost ?? (["0.0.0.0", "::"].contains(bound.host) ? ProcessInfo.processInfo.hostName : bound.host)
            let identity = RegisterNodeRequest(
                uuid: uuid, address: WireAddress(host: host, port: bound.port), hostID: configuration.hostID,
                dataDirectory: configuration.directory, pid: getpid(), capacity: 0, free: 0
            )
            let loop = NodeRegistration(
                metaAddresses: configuration.metaAddresses, credentials: configuration.credentials, identity: identity, interval: configuration.heartbeatInterval,
                readOnlyClients: readOnlyClients, logger: logger
            ) { try await service.nodeStatus() }
            registration = Task { await loop.runWithRebuildWorker() }
        }
        logger.notice("storage daemon listening", metadata: [
            "address": "\(server.localAddress)", "dir": "\(configuration.directory)", "uuid": "\(uuid)",
            "fragment_files": "\(store.fragmentFileCount)",
        ])
        return StorageDaemon(configuration: configuration, store: store, service: service, server: server, registration: registration, uuid: uuid)
    }

    /// Stops heartbeats, closes the server and its connections, then lets the disk I/O in
    /// flight finish (every acknowledged write was already fsync'd).
    public func stop() async {
        registration?.cancel()
        try? await server.close()
        await store.shutdown()
    }

    /// The node's uuid from `<dir>/node.uuid`, made (and made durable) on first start.
    static func nodeUUID(in directory: String) throws -> String {
        let path = directory + "/node.uuid"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let uuid = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if UUID(uuidString: uuid) != nil { return uuid }
        }
        let uuid = UUID().uuidString.lowercased()
        let temporary = path + ".tmp"
        do {
            try (uuid + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, path) == 0 else { throw POSIXFile.error("rename", temporary) }
            try POSIXFile.synchronizeDirectory(directory)
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(.internalError, "cannot write \(path): \(error)")
        }
        return uuid
    }
}
