/// The opcodes of the storage daemon, in the 0x10-0x3F range the wire protocol reserves for it.
///
/// Raw values are the wire encoding: never renumber, only append.
public enum StorageOpcode: UInt8, Sendable, CaseIterable {
    case writeFragments = 0x10
    case readFragments = 0x11
    case deleteFile = 0x12
    case truncate = 0x13
    case listFiles = 0x14
    case listGroups = 0x15
    case nodeStatus = 0x16
    /// `readFragments` of the slots' previous copies (same request and reply).
    case readPreviousFragments = 0x18
    case dropPrevious = 0x19
    /// Part of one slot (`ReadFragmentRangeRequest`), answered as a `ReadFragmentsReply`.
    case readFragmentRange = 0x1A
    /// fsync of one fragment file whose writes deferred it (`SyncFileRequest`).
    case syncFile = 0x1B

    /// The opcode range the wire protocol gives the storage daemon.
    public static let range: ClosedRange<UInt8> = 0x10...0x3F
}
