/// How the block store reaches the fragment slots on storage nodes: one fragment of one block
/// per call, so the store can fan out, hedge and vote without knowing the wire messages.
protocol FragmentTransport: Sendable {
    /// Writes one fragment slot; returns once the node has fsync'd it.
    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: [UInt8]
    ) async throws
    /// Reads one fragment slot; every failure becomes `.failed` (the store decides what to do).
    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer
    /// Drops the slots of blocks `blockCount` and after.
    func truncate(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockCount: UInt64) async throws
    /// Drops the whole fragment file.
    func delete(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws
}
