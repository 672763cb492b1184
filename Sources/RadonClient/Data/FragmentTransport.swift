import NIOCore

/// How the block store reaches the fragment slots on storage nodes: one fragment of one block
/// per call, so the store can fan out, hedge and vote without knowing the wire messages.
protocol FragmentTransport: Sendable {
    /// Writes one fragment slot; returns once the node has fsync'd it, or, with `deferSync`, once
    /// it is in the node's page cache if the slot held no version before (the receipt says
    /// which: `sync` makes it durable). `checksum` is the CRC32C computed when the fragment was
    /// encoded: the node refuses bytes that do not match it (`.corrupt`) and stores it. With
    /// `keepPrevious` (a client overwrite) the node keeps the version it replaced until
    /// `dropPrevious`; the receipt says whether it holds such a previous version now.
    @discardableResult
    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt
    /// fsyncs a fragment file whose writes deferred it; returns the node's host boot, which
    /// must be the one those writes were answered under for them to be durable now.
    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64
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

/// What a node said of one fragment write.
struct FragmentWriteReceipt: Sendable, Equatable {
    /// The node keeps the version this write replaced (to drop once the write is durable).
    var keptPrevious: Bool
    /// The node left the fsync to a `sync` (`deferSync`), and the host boot it answered under;
    /// nil when the slot is fsync'd already.
    var deferredUnderBoot: UInt64?

    init(keptPrevious: Bool, deferredUnderBoot: UInt64? = nil) {
        self.keptPrevious = keptPrevious
        self.deferredUnderBoot = deferredUnderBoot
    }
}
