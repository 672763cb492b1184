import RadonWire

/// Everything the metadata service keeps, behind one interface so a PostgreSQL backend (for
/// active/standby metadata servers) can stand where SQLite stands now.
///
/// Every mutating method is one atomic, durable transaction: when it returns, the change is on
/// disk. POSIX failures throw `FileSystemError` (the errno reaches the mount unchanged);
/// anything else throws `WireError`. Requests are the wire messages themselves, so the service
/// passes them through untouched and a new backend cannot drift from the protocol.
public protocol MetadataStore: Sendable {
    // MARK: Namespace
    func lookup(_ request: NameRequest) async throws -> InodeAttributes
    /// A lookup, and the entries after the name in listing order for a caller who may list
    /// the directory (see `LookaheadRequest`).
    func lookup(_ request: LookaheadRequest) async throws -> LookaheadReply
    func attributes(of inode: UInt64) async throws -> InodeAttributes
    func setAttributes(_ request: SetAttributesRequest) async throws -> InodeAttributes
    func create(_ request: CreateRequest) async throws -> CreateReply
    func makeDirectory(_ request: MakeDirectoryRequest) async throws -> InodeAttributes
    func makeSymbolicLink(_ request: MakeSymbolicLinkRequest) async throws -> InodeAttributes
    func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8]
    /// unlink(2). A file losing its last link loses its inode at once, unless the trash keeps
    /// it (a regular file, retention above 0) or `openFiles` says a session has it open: then
    /// it stays an orphan (nlink 0, no name, data kept) until `reapOrphan`. Returns the removed
    /// file when it had fragments to delete.
    func remove(_ request: NameRequest) async throws -> RemovalReply
    func removeDirectory(_ request: NameRequest) async throws
    /// rename(2); a file replaced by the rename is removed as by `remove`.
    func rename(_ request: RenameRequest) async throws -> RemovedFile?
    func link(_ request: LinkRequest) async throws -> InodeAttributes
    func readDirectory(_ request: ReadDirectoryRequest) async throws -> [DirectoryEntry]
    func statistics() async throws -> FileSystemStatistics
    /// The statistics as `df` on a mount of `directory` shows them: its quotas as size and inodes.
    func statistics(of directory: UInt64) async throws -> FileSystemStatistics

    // MARK: Extended attributes
    func extendedAttribute(_ request: ExtendedAttributeRequest) async throws -> [UInt8]
    func setExtendedAttribute(_ request: SetExtendedAttributeRequest) async throws
    func extendedAttributeNames(of inode: UInt64) async throws -> [String]
    func removeExtendedAttribute(_ request: ExtendedAttributeRequest) async throws

    // MARK: File data
    func fileLayout(of inode: UInt64) async throws -> FileLayout
    func updateSizeAfterWrite(_ request: UpdateSizeRequest) async throws -> InodeAttributes
    func readInline(of inode: UInt64) async throws -> InlineDataReply
    func writeInline(_ request: WriteInlineRequest) async throws -> WriteInlineReply
    /// Moves a file out of its inode: returns the bytes it held (the client writes them as
    /// blocks) and marks it as block-stored; its size is unchanged.
    func clearInline(of inode: UInt64) async throws -> InlineDataReply
    /// What an open needs: the attributes and, for a regular file, its layout and inline bytes.
    func openState(of inode: UInt64) async throws -> OpenFileReply
    /// Which sessions have which files open (in memory), consulted when a last link goes.
    var openFiles: OpenFileHolds { get }
    /// Regular files with no link left, kept while open: the oldest `limit`.
    func orphans(limit: Int) async throws -> [UInt64]
    /// Frees an orphan: its inode goes, its fragments (if any) join the pending deletions.
    /// False (nothing done) when `inode` is not an orphan (gone already, or linked again).
    func reapOrphan(_ inode: UInt64) async throws -> Bool
    func pendingDeletions(limit: Int) async throws -> [RemovedFile]
    /// A page of the files with fragments (and the removed ones awaiting deletion), for fsck;
    /// `isOpen` is left false (open files are the service's, not the store's).
    func fileInventory(after: UInt64, limit: Int) async throws -> FileInventoryReply
    /// Where `inode` would live in another volume (`radonfs layout apply`).
    func relayoutBegin(_ request: RelayoutBeginRequest) async throws -> RelayoutBeginReply
    /// Switches `inode` to the volume its blocks were written to, unless it changed or is open.
    func relayoutCommit(_ request: RelayoutCommitRequest) async throws -> InodeAttributes
    /// Sets or (both limits 0) removes a directory's quota.
    func setQuota(_ request: QuotaSetRequest) async throws -> [DirectoryQuota]
    /// Every quota (`inode` 0), or the one on `inode`.
    func quotas(of inode: UInt64) async throws -> [DirectoryQuota]
    /// What file `inode` may still grow by (`UInt64.max`: no byte quota above it).
    func quotaHeadroom(of inode: UInt64) async throws -> UInt64
    func confirmDeletions(_ inodes: [UInt64]) async throws

    // MARK: Trash (see `SQLMetadataStore+Trash`)
    /// A page of the trash, entries with an inode above `after`, in inode order.
    func trashList(after: UInt64, limit: Int) async throws -> [TrashEntry]
    /// Names a trashed file again; EEXIST or ENOENT (and no change) when it cannot.
    func restoreFromTrash(_ request: TrashRestoreRequest) async throws -> TrashRestoreReply
    /// Frees trashed files now: their fragments join the pending deletions.
    func purgeTrash(_ request: TrashPurgeRequest) async throws -> TrashPurgeReply
    /// Frees up to `limit` entries older than the retention (the maintenance pass).
    func expireTrash(limit: Int) async throws -> TrashPurgeReply
    /// Reads (after setting, if asked) the retention, with what the trash holds.
    func trashSettings(_ request: TrashSettingsRequest) async throws -> TrashSummary

    // MARK: Nodes, volumes, placement
    func registerNode(_ request: RegisterNodeRequest) async throws -> NodeAcknowledgement
    func heartbeat(_ request: HeartbeatRequest) async throws -> NodeAcknowledgement
    func nodes() async throws -> [NodeInfo]
    /// Moves nodes between up, down and lost by the time since their last heartbeat (never
    /// counting from before `notBefore`, the service's start, so a restart is not an outage).
    func sweepLiveness(now: Timestamp, downAfter: Double, lostAfter: Double, notBefore: Timestamp) async throws -> [NodeStateTransition]
    func createVolume(_ specification: VolumeSpecification) async throws -> VolumeSettings
    func volumes() async throws -> [VolumeSettings]
    /// 0 names the default volume.
    func groupMap(volumeID: UInt32) async throws -> GroupMap
    func replaceMember(_ request: ReplaceMemberRequest) async throws -> PlacementGroup
    func status() async throws -> ClusterStatus

    // MARK: Exports (see `ExportRule`)
    func exports() async throws -> [ExportRule]
    /// Adds or replaces the export of `rule.name`, whose `root` is resolved already.
    func saveExport(_ rule: ExportRule) async throws
    /// False when `name` had no export.
    func removeExport(named name: String) async throws -> Bool
    /// Whether `inode` is the directory `root` or has a name somewhere below it.
    func isWithin(_ inode: UInt64, subtree root: UInt64) async throws -> Bool

    // Operation log (see `OperationLog`).
    /// Forgets the replies of identified requests committed before `cutoff` (nanoseconds since
    /// the epoch); returns how many went.
    func trimOperationLog(before cutoff: Int64) async throws -> Int
}
