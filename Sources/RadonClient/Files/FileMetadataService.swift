/// The part of the metadata service the data path of an open file needs.
///
/// `MetaClient` provides it; keeping it a protocol lets the write-gathering logic be read (and
/// tested) without a running service.
protocol FileMetadataService: Sendable {
    func fileLayout(of inode: UInt64) async throws -> FileLayout
    func readInline(_ inode: UInt64) async throws -> [UInt8]
    /// Writes `bytes` at `offset` into the file's inline bytes (the size grows to cover them);
    /// nil when the service does not keep the file inline or would outgrow its threshold.
    func writeInline(_ inode: UInt64, offset: UInt64, bytes: [UInt8]) async throws -> InodeAttributes?
    /// The file's bytes now live in fragments; drop the inline copy.
    func clearInline(_ inode: UInt64) async throws
    /// Publishes the size after a write that reached its fragments, the blocks written (for
    /// st_blocks), and sets mtime to now.
    func updateSizeAfterWrite(_ inode: UInt64, size: UInt64, writtenBlocks: [BlockRun]) async throws -> InodeAttributes
    /// What the file may still grow by under the directory quotas above it (`UInt64.max`: none).
    func quotaHeadroom(_ inode: UInt64) async throws -> UInt64

    /// Takes the file's data token (see the service's `DataTokenTable`), waiting for as long as
    /// another client holds it; returns the session it is held under and the file's attributes
    /// at the grant.
    func acquireDataToken(_ inode: UInt64) async throws -> (session: UInt64, attributes: InodeAttributes)
    func releaseDataToken(_ inode: UInt64, session: UInt64) async
    /// Whether a token taken under `session` still stands: the session is this client's live
    /// one, with lease to spare.
    func isValid(session: UInt64) async -> Bool
}
