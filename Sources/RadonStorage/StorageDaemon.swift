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
        /// The host to register for the first listen address (the bound host by default, with the
        /// real port); `advertised` names every path instead.
        public var advertisedHost: String?
        /// More addresses to listen on, each a network path of its own (the paper's one storio
        /// per port); one service answers on all of them.
        public var extraListen: [WireAddress]
        /// What to register for each listen address, in order (`listen` first); an entry with
        /// port 0 takes the bound port. Empty: the bound addresses (with `advertisedHost` for
        /// the first). Longer than the listen list is a configuration error.
        public var advertised: [WireAddress]
        public var heartbeatInterval: Duration

        public init(
            directory: String, listen: WireAddress, credentials: WireCredentials, metaAddress: WireAddress? = nil, metaAddresses: [WireAddress] = [],
            hostID: String? = nil, advertisedHost: String? = nil, extraListen: [WireAddress] = [], advertised: [WireAddress] = [],
            heartbeatInterval: Duration = .seconds(2)
        ) {
            self.directory = directory
            self.listen = listen
            self.credentials = credentials
            self.metaAddresses = metaAddresses + (metaAddress.map { [$0] } ?? [])
            self.hostID = hostID ?? ProcessInfo.processInfo.hostName
            self.advertisedHost = advertisedHost
            self.extraListen = extraListen
            self.advertised = advertised
            self.heartbeatInterval = heartbeatInterval
        }
    }

    public let configuration: Configuration
    public let store: FragmentStore
    public let service: StorageService
    /// One per listen address, `listen` first.
    private let servers: [WireServer]
    private let registration: Task<Void, Never>?
    /// This node's identity, kept in `<dir>/node.uuid` across restarts.
    public let uuid: String

    /// The address the daemon listens on (the real port when 0 was asked for).
    public var address: WireAddress { servers[0].localAddress }

    /// Every address the daemon listens on, `address` first.
    public var addresses: [WireAddress] { servers.map(\.localAddress) }

    private init(configuration: Configuration, store: FragmentStore, service: StorageService, servers: [WireServer], registration: Task<Void, Never>?, uuid: String) {
        self.configuration = configuration
        self.store = store
        self.service = service
        self.servers = servers
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
        let listen = [configuration.listen] + configuration.extraListen
        guard configuration.advertised.count <= listen.count else {
            await store.shutdown()
            throw WireError(.invalidArgument, "\(configuration.advertised.count) advertised addresses for \(listen.count) listen addresses")
        }
        var servers: [WireServer] = []
        for address in listen {
            do {
                servers.append(try await WireServer.start(
                    host: address.host, port: address.port, credentials: configuration.credentials,
                    access: StorageOpcode.access(ownName: configuration.credentials.identityName, readOnlyClients: readOnlyClients), logger: logger,
                    limits: StorageDaemon.connectionLimits
                ) { request in
                    await service.handle(request)
                })
            } catch {
                for server in servers { try? await server.close() }
                await store.shutdown()
                throw WireError(.unavailable, "cannot listen on \(address): \(error)")
            }
        }
        let uuid = try nodeUUID(in: configuration.directory)
        var registration: Task<Void, Never>?
        if !configuration.metaAddresses.isEmpty {
            let paths = advertisedPaths(configuration, bound: servers.map(\.localAddress))
            let identity = RegisterNodeRequest(
                uuid: uuid, address: paths[0], hostID: configuration.hostID,
                dataDirectory: configuration.directory, pid: getpid(), capacity: 0, free: 0, extraAddresses: Array(paths.dropFirst())
            )
            let loop = NodeRegistration(
                metaAddresses: configuration.metaAddresses, credentials: configuration.credentials, identity: identity, interval: configuration.heartbeatInterval,
                readOnlyClients: readOnlyClients, logger: logger
            ) { try await service.nodeStatus() }
            registration = Task { await loop.runWithRebuildWorker() }
        }
        logger.notice("storage daemon listening", metadata: [
            "addresses": "\(servers.map(\.localAddress.description).joined(separator: ","))", "dir": "\(configuration.directory)", "uuid": "\(uuid)",
            "fragment_files": "\(store.fragmentFileCount)",
        ])
        return StorageDaemon(configuration: configuration, store: store, service: service, servers: servers, registration: registration, uuid: uuid)
    }

    /// The addresses to register, one per bound listener: the advertised one given for it (its
    /// port 0 replaced by the bound port), else the bound one, with a wildcard host replaced by
    /// `advertisedHost` or the host name.
    static func advertisedPaths(_ configuration: Configuration, bound: [WireAddress]) -> [WireAddress] {
        bound.enumerated().map { index, address in
            if index < configuration.advertised.count {
                let given = configuration.advertised[index]
                return WireAddress(host: given.host, port: given.port == 0 ? address.port : given.port)
            }
            let fallback = ["0.0.0.0", "::"].contains(address.host) ? ProcessInfo.processInfo.hostName : address.host
            return WireAddress(host: index == 0 ? configuration.advertisedHost ?? fallback : fallback, port: address.port)
        }
    }

    /// Stops heartbeats, closes the server and its connections, then lets the disk I/O in
    /// flight finish (every acknowledged write was already fsync'd, or is in the host's page
    /// cache until the client's `syncFile`, which a daemon started again answers).
    public func stop() async {
        registration?.cancel()
        for server in servers { try? await server.close() }
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
