/// The part of the metadata service the data path of an open file needs.
///
/// `MetaClient` provides it; keeping it a protocol lets the write-gathering logic be read (and
/// tested) without a running service.
protocol FileMetadataService: Sendable {
    func fileLayout(of inode: UInt64) async throws -> FileLayout
    func readInline(_ inode: UInt64) async throws -> [UInt8]
    /// Replaces the file's inline bytes (and so its size) with `bytes`; nil when the service
    /// would not keep that many bytes inline.
    func writeInline(_ inode: UInt64, bytes: [UInt8]) async throws -> InodeAttributes?
    /// The file's bytes now live in fragments; drop the inline copy.
    func clearInline(_ inode: UInt64) async throws
    /// Publishes the size after a write that reached its fragments, and sets mtime to now.
    func updateSizeAfterWrite(_ inode: UInt64, size: UInt64) async throws -> InodeAttributes
}
