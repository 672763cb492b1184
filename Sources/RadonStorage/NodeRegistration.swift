import Foundation
import Logging
import Metrics
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a storage daemon known to the metadata service: registers (by the uuid kept in the
/// data directory, so a restart gets its node id back), then heartbeats with capacity and free
/// space every `interval`. A failed heartbeat (service down, node forgotten) registers again on
/// the next beat. Runs until its task is cancelled.
public struct NodeRegistration: Sendable {
    /// What the node tells the registry about itself, refreshed before every beat.
    public typealias StatusProvider = @Sendable () async throws -> StorageNodeStatus

    /// Every metadata server; beats go to the active one (see `MetaFailover`).
    public var metaAddresses: [WireAddress]
    public var credentials: WireCredentials
    public var identity: RegisterNodeRequest
    public var interval: Duration
    public var status: StatusProvider
    /// Kept to what each acknowledgement says (the daemon's access policy reads it).
    public var readOnlyClients: ReadOnlyClients
    public var logger: Logger

    public init(
        metaAddresses: [WireAddress], credentials: WireCredentials, identity: RegisterNodeRequest, interval: Duration = .seconds(2),
        readOnlyClients: ReadOnlyClients = ReadOnlyClients(), logger: Logger, status: @escaping StatusProvider
    ) {
        self.metaAddresses = metaAddresses
        self.credentials = credentials
        self.identity = identity
        self.interval = interval
        self.status = status
        self.readOnlyClients = readOnlyClients
        self.logger = logger
    }

    /// Beats until cancelled. `onRegistered` is called with the node id after each (re)registration.
    public func run(onRegistered: @Sendable (UInt32) -> Void = { _ in }) async {
        let pool = WireConnectionPool(credentials: credentials, connectTimeout: .seconds(3))
        defer { Task { await pool.closeAll() } }
        // Each beat retries for one interval at most: the next beat is the next try.
        let failover = MetaFailover(addresses: metaAddresses, pool: pool, rideThrough: interval, logger: logger)
        let client = MetaClient(transport: failover, timeout: .seconds(5))
        var nodeID: UInt32?
        var failuresInARow = 0
        while !Task.isCancelled {
            do {
                let current = try await status()
                Gauge(label: "radonfs_storage_disk_capacity_bytes").record(Double(current.capacityBytes))
                Gauge(label: "radonfs_storage_disk_free_bytes").record(Double(current.freeBytes))
                Gauge(label: "radonfs_storage_fragment_files").record(Double(current.fragmentFileCount))
                let acknowledgement: NodeAcknowledgement
                if let nodeID {
                    acknowledgement = try await client.heartbeat(HeartbeatRequest(
                        nodeID: nodeID, capacity: current.capacityBytes, free: current.freeBytes, fragmentCount: current.fragmentFileCount
                    ))
                } else {
                    var request = identity
                    if request.fileSystemID.isEmpty {
                        request.fileSystemID = Self.fileSystemIdentity(of: request.dataDirectory)
                    }
                    request.capacity = current.capacityBytes
                    request.free = current.freeBytes
                    acknowledgement = try await client.registerNode(request)
                    nodeID = acknowledgement.nodeID
                    logger.notice("registered with the metadata service", metadata: [
                        "node": "\(acknowledgement.nodeID)", "meta": "\(failover.currentAddress)", "was": "\(acknowledgement.previousState)",
                    ])
                    onRegistered(acknowledgement.nodeID)
                }
                readOnlyClients.replace(with: acknowledgement.readOnlyClients)
                if acknowledgement.previousState != .up {
                    logger.notice("the metadata service had this node \(acknowledgement.previousState); it is up again")
                }
                if failuresInARow > 0 {
                    logger.notice("metadata service reachable again", metadata: ["meta": "\(failover.currentAddress)"])
                }
                failuresInARow = 0
            } catch {
                // Log the first failure and then every 30th, not one line per beat while it is down.
                if failuresInARow % 30 == 0 {
                    logger.warning("cannot reach the metadata service", metadata: ["meta": "\(metaAddresses)", "error": "\(error)"])
                }
                failuresInARow += 1
                nodeID = nil
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Names the file system `directory` is on, for `RegisterNodeRequest.fileSystemID`: this
    /// machine (its /etc/machine-id, else its host name; not the configured host id, which is
    /// a failure domain and differs between daemons on one disk in a local cluster), the file
    /// system id statvfs reports and the device stat reports. Two data directories on one
    /// disk of one machine get the same name, so statfs counts that disk once. Empty when the
    /// directory cannot be examined (the registry then counts the node on its own).
    public static func fileSystemIdentity(of directory: String) -> String {
        var fileStatus = stat()
        var fileSystemStatus = statvfs()
        guard stat(directory, &fileStatus) == 0, statvfs(directory, &fileSystemStatus) == 0 else { return "" }
        let machineID = (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let machine = machineID.isEmpty ? ProcessInfo.processInfo.hostName : machineID
        let fileSystem = String(UInt64(fileSystemStatus.f_fsid), radix: 16)
        let device = String(UInt64(fileStatus.st_dev), radix: 16)
        return "\(machine) fsid:\(fileSystem) dev:\(device)"
    }
}
