import Logging
import RadonClient
import RadonWire

/// Where a test cluster's metadata service listens and how to prove oneself to it: all a test
/// needs to connect a client core or talk to the metadata service directly, however the
/// cluster was started.
public struct ClusterEndpoint: Sendable {
    public var metaAddress: WireAddress
    public var credentials: WireCredentials

    public init(metaAddress: WireAddress, credentials: WireCredentials) {
        self.metaAddress = metaAddress
        self.credentials = credentials
    }

    /// A fresh client core connected to the cluster (logging errors only, so test output
    /// stays readable). The caller closes it.
    public func client() async throws -> RadonFileSystemClient {
        var logger = Logger(label: "test.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(meta: metaAddress, credentials: credentials, logger: logger)
    }

    /// A client of the metadata service alone, for tests that inspect nodes, groups or healing
    /// jobs. The caller closes the pool.
    public func meta() async throws -> (MetaClient, WireConnectionPool) {
        let pool = WireConnectionPool(credentials: credentials)
        return (MetaClient(connection: try await pool.connection(to: metaAddress)), pool)
    }
}
