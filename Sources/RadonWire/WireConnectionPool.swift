import NIOCore
import NIOPosix

/// One shared connection per daemon, reopened when it has closed.
///
/// Connections multiplex, so one per address is enough for any number of concurrent callers.
/// Concurrent first requests for one address share a single connection attempt.
public actor WireConnectionPool {
    private let credentials: WireCredentials
    private let group: any EventLoopGroup
    private let connectTimeout: Duration
    private var connections: [WireAddress: WireConnection] = [:]
    private var connecting: [WireAddress: Task<WireConnection, any Error>] = [:]

    public init(credentials: WireCredentials, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: Duration = .seconds(5)) {
        self.credentials = credentials
        self.group = group
        self.connectTimeout = connectTimeout
    }

    /// An open, authenticated connection to `address`: the pooled one, or a new one.
    public func connection(to address: WireAddress) async throws -> WireConnection {
        if let connection = connections[address], connection.isActive {
            return connection
        }
        if let attempt = connecting[address] {
            return try await attempt.value
        }
        let (credentials, group, timeout) = (self.credentials, self.group, self.connectTimeout)
        let attempt = Task { try await WireConnection.connect(to: address, credentials: credentials, group: group, timeout: timeout) }
        connecting[address] = attempt
        defer { connecting[address] = nil }
        let connection = try await attempt.value
        connections[address]?.close()
        connections[address] = connection
        return connection
    }

    /// Drops (and closes) the pooled connection to `address`, e.g. after it misbehaved.
    public func discard(_ address: WireAddress) {
        connections.removeValue(forKey: address)?.close()
    }

    /// Closes every pooled connection.
    public func closeAll() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }
}
