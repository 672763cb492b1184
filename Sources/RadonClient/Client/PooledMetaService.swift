/// The metadata service over the client's connection pool: each call takes the pooled
/// connection, so after the service restarts (or the link drops) the next call reconnects.
struct PooledMetaService: FileMetadataService {
    let address: WireAddress
    let pool: WireConnectionPool
    var timeout: Duration = .seconds(30)

    func client() async throws -> MetaClient {
        do {
            return MetaClient(connection: try await pool.connection(to: address), timeout: timeout)
        } catch {
            throw FileSystemError.io("metadata service at \(address) unreachable: \(error)")
        }
    }

    func fileLayout(of inode: UInt64) async throws -> FileLayout {
        try await client().fileLayout(of: inode)
    }

    func readInline(_ inode: UInt64) async throws -> [UInt8] {
        try await client().readInline(of: inode).bytes
    }

    func writeInline(_ inode: UInt64, bytes: [UInt8]) async throws -> InodeAttributes? {
        let reply = try await client().writeInline(inode, offset: 0, bytes: bytes, truncate: true)
        return reply.stored ? reply.attributes : nil
    }

    func clearInline(_ inode: UInt64) async throws {
        _ = try await client().clearInline(of: inode)
    }

    func updateSizeAfterWrite(_ inode: UInt64, size: UInt64) async throws -> InodeAttributes {
        try await client().updateSizeAfterWrite(inode, size: size)
    }
}
