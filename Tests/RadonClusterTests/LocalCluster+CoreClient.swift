import Logging
@testable import RadonClient
import RadonTestSupport
import RadonWire

extension LocalCluster {
    /// A client core on this cluster that `make` builds from the metadata address, a pool
    /// holding the cluster's credentials and an errors-only logger: for tests that set the core's
    /// internal knobs (transport, repair reporter, write budget, hedge delay), which the public
    /// `client()` does not offer.
    func coreClient(_ make: (WireAddress, WireConnectionPool, Logger) throws -> RadonFileSystemClient) throws -> RadonFileSystemClient {
        let endpoint = try endpoint()
        var logger = Logger(label: "test.client")
        logger.logLevel = .error
        return try make(endpoint.metaAddress, WireConnectionPool(credentials: endpoint.credentials), logger)
    }
}
