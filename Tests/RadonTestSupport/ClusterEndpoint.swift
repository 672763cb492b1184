import Logging
import RadonClient
import RadonWire

/// Where a test cluster's metadata service listens and the key it accepts: all a test needs
/// to connect a client core or talk to the metadata service directly, however the cluster
/// was started.
public struct ClusterEndpoint: Sendable {
    public var metaAddress: WireAddress
    public var keyFile: String

    public init(metaAddress: WireAddress, keyFile: String) {
        self.metaAddress = metaAddress
        self.keyFile = keyFile
    }

    /// A fresh client core connected to the cluster (logging errors only, so test output
    /// stays readable). The caller closes it.
    public func client() async throws -> RadonFileSystemClient {
        var logger = Logger(label: "test.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(meta: metaAddress, key: ClusterKey(contentsOf: keyFile), logger: logger)
    }

    /// A client of the metadata service alone, for tests that inspect nodes, groups or healing
    /// jobs. The caller closes the pool.
    public func meta() async throws -> (MetaClient, WireConnectionPool) {
        let pool = WireConnectionPool(key: try ClusterKey(contentsOf: keyFile))
        return (MetaClient(connection: try await pool.connection(to: metaAddress)), pool)
    }
}
