/// The opcodes of the metadata service, in the 0x40-0x9F range the wire protocol reserves for it.
///
/// Raw values are the wire encoding: never renumber, only append.
public enum MetaOpcode: UInt8, Sendable, CaseIterable {
    // Namespace, 0x40-0x5F.
    case lookup = 0x40
    case getAttributes = 0x41
    case setAttributes = 0x42
    case create = 0x43
    case makeDirectory = 0x44
    case makeSymbolicLink = 0x45
    case readSymbolicLink = 0x46
    case remove = 0x47
    case removeDirectory = 0x48
    case rename = 0x49
    case link = 0x4A
    case readDirectory = 0x4B
    case statistics = 0x4C
    case getExtendedAttribute = 0x4D
    case setExtendedAttribute = 0x4E
    case listExtendedAttributes = 0x4F
    case removeExtendedAttribute = 0x50
    /// The directory a mount shows as its root, and whether it may write (see `ExportGrant`).
    case exportRoot = 0x51
    /// A lookup with the entries that follow the name (`LookaheadRequest`).
    case lookupAhead = 0x52

    // File data bookkeeping, 0x60-0x6F.
    case fileLayout = 0x60
    case updateSizeAfterWrite = 0x61
    case readInline = 0x62
    case writeInline = 0x63
    case clearInline = 0x64
    case pendingDeletions = 0x65
    case confirmDeletions = 0x66

    // Client sessions and what they hold, 0x70-0x7F: leases (0x70-0x72), locks (0x73-0x77),
    // data tokens and open-file holds (0x78-0x7B).
    case openSession = 0x70
    case renewSession = 0x71
    case closeSession = 0x72
    case setLock = 0x73
    case testLock = 0x74
    case releaseLocks = 0x75
    case cancelLockWait = 0x76
    case acquireDataToken = 0x78
    case releaseDataToken = 0x79
    case openFile = 0x7A
    case closeFile = 0x7B

    // Cluster, 0x80-0x9F.
    case registerNode = 0x80
    case heartbeat = 0x81
    case nodes = 0x82
    case status = 0x83
    case createVolume = 0x84
    case volumes = 0x85
    case groupMap = 0x86
    case replaceMember = 0x87
    // 0x88-0x8D: healing (`MetaHealingOpcode`).
    // Exports (`ExportRule`), operator only.
    case addExport = 0x90
    case exports = 0x91
    case removeExport = 0x92
    /// Every file with fragments, a page at a time (`FileInventoryRequest`), for `fsck`;
    /// operator only.
    case fileInventory = 0x93
    /// The trash (`TrashEntry`): removed files kept for the cluster's retention, operator only.
    /// A page of it (`TrashListRequest`).
    case trashList = 0x94
    /// A file in the trash named again (`TrashRestoreRequest`).
    case trashRestore = 0x95
    /// Files in the trash freed now (`TrashPurgeRequest`).
    case trashPurge = 0x96
    /// The retention, read or set, and what the trash holds (`TrashSettingsRequest`).
    case trashSettings = 0x97
    /// `radonfs layout apply`: a file's layout in another volume to write its blocks to
    /// (`RelayoutBeginRequest`); operator only.
    case relayoutBegin = 0x98
    /// ... and the switch to it once they are written, unless the file changed or is open
    /// (`RelayoutCommitRequest`); operator only.
    case relayoutCommit = 0x99
    /// `radonfs quota set`: a directory's byte and file limits (`QuotaSetRequest`); operator only.
    case quotaSet = 0x9A
    /// `radonfs quota list|get`: quotas with their usage (`InodeRequest`, 0 for all); operator only.
    case quotaList = 0x9B
    /// What a file may still grow by under the quotas above it (`InodeRequest`): a client
    /// asks when the headroom it was given at open runs out.
    case quotaHeadroom = 0x9C

    /// An envelope: a request id (`MetaRequestIdentity`) and a mutating request to run under
    /// it (see `IdentifiedRequest`). The last opcode of the range, out of the healing block's way.
    case identified = 0x9F

    /// The opcode range the wire protocol gives the metadata service.
    public static let range: ClosedRange<UInt8> = 0x40...0x9F
}
