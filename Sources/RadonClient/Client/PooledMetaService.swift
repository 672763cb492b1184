import Logging

/// The metadata service over the client's connection pool, through one `MetaFailover`: every
/// call goes to the current metadata address, reconnects after the service restarted, and rides
/// through outages (moving on to the next address) for up to the failover's `rideThrough`.
struct PooledMetaService: Sendable {
    let failover: MetaFailover
    var timeout: Duration = .seconds(30)

    init(addresses: [WireAddress], pool: WireConnectionPool, rideThrough: Duration, logger: Logger) {
        failover = MetaFailover(addresses: addresses, pool: pool, rideThrough: rideThrough, logger: logger)
    }

    /// A client over the failover transport (nothing is connected until a call is made).
    func client() async throws -> MetaClient {
        MetaClient(transport: failover, timeout: timeout)
    }

    func fileLayout(of inode: UInt64) async throws -> FileLayout {
        try await client().fileLayout(of: inode)
    }

    func readInline(_ inode: UInt64) async throws -> [UInt8] {
        try await client().readInline(of: inode).bytes
    }

}

/// The file-data calls of `PooledMetaService`, with data tokens taken under the client's session.
struct SessionFileMetadata: FileMetadataService {
    let meta: PooledMetaService
    let session: ClientSession
    /// The client's live session id (a replaced session's holds asserted again first).
    let sessionID: @Sendable () async throws -> UInt64

    /// How long one acquire waits at the service before asking again.
    static let tokenWait: Duration = .seconds(10)

    func fileLayout(of inode: UInt64) async throws -> FileLayout { try await meta.fileLayout(of: inode) }
    func readInline(_ inode: UInt64) async throws -> [UInt8] { try await meta.readInline(inode) }
    func writeInline(_ inode: UInt64, offset: UInt64, bytes: [UInt8]) async throws -> InodeAttributes? {
        let reply = try await meta.client().writeInline(inode, offset: offset, bytes: bytes)
        return reply.stored ? reply.attributes : nil
    }
    func clearInline(_ inode: UInt64) async throws { _ = try await meta.client().clearInline(of: inode) }
    func updateSizeAfterWrite(_ inode: UInt64, size: UInt64, writtenBlocks: [BlockRun]) async throws -> InodeAttributes {
        try await meta.client().updateSizeAfterWrite(inode, size: size, writtenBlocks: writtenBlocks)
    }
    func quotaHeadroom(_ inode: UInt64) async throws -> UInt64 { try await meta.client().quotaHeadroom(of: inode) }

    func acquireDataToken(_ inode: UInt64) async throws -> (session: UInt64, attributes: InodeAttributes) {
        while true {
            try Task.checkCancellation()
            let id = try await sessionID()
            do {
                let grant = try await meta.client().acquireDataToken(session: id, inode: inode, wait: Self.tokenWait)
                if let attributes = grant.attributes { return (id, attributes) }
            } catch let error as WireError where error.status == .sessionExpired {
                await session.lapsed(id)
            }
        }
    }

    func releaseDataToken(_ inode: UInt64, session id: UInt64) async {
        _ = try? await meta.client().releaseDataToken(session: id, inode: inode)
    }

    func isValid(session id: UInt64) async -> Bool {
        await session.current() == id
    }
}
