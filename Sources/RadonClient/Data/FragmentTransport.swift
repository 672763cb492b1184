import NIOCore

/// How the block store reaches the fragment slots on storage nodes: one fragment of one block
/// per call, so the store can fan out, hedge and vote without knowing the wire messages.
protocol FragmentTransport: Sendable {
    /// Writes one fragment slot; returns once the node has fsync'd it. `checksum` is the CRC32C
    /// computed when the fragment was encoded: the node refuses bytes that do not match it
    /// (`.corrupt`) and stores it. With `keepPrevious` (a client overwrite) the node keeps the
    /// version it replaced until `dropPrevious`; returns whether it holds such a previous
    /// version now.
    @discardableResult
    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool
    ) async throws -> Bool
    /// Reads one fragment slot; every failure becomes `.failed` (the store decides what to do).
    /// A present answer carries the checksum its bytes left the node with, unchecked: the
    /// store checks it (`FragmentAnswer.verified`) as the bytes arrive.
    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer
    /// Reads the slot's previous version (kept by an overwrite not confirmed yet): `.missing`
    /// when there is none.
    func readPrevious(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer
    /// Lets the node drop the slot's previous version if it is older than `version`.
    func dropPrevious(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64, version: UInt64) async throws
    /// Drops the slots of blocks `blockCount` and after.
    func truncate(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockCount: UInt64) async throws
    /// Drops the whole fragment file.
    func delete(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws
}
