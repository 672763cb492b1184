import RadonWire

/// A request an export judges: the inodes it names, each of which must lie within the
/// export's subtree, and the identity it acts as, which the export may squash.
///
/// Every request a client may send either conforms or is `NamesNoInode`; the service refuses
/// an exported client's request of any other type, so a new request type is closed until it
/// says which inodes it names.
protocol ExportScoped: Sendable {
    var namedInodes: [UInt64] { get }
    /// nil: the request acts as nobody in particular (getattr, reads of data the open checked).
    var actingCaller: MetaCaller? { get set }
}

/// A request that acts as the caller it carries (the namespace's changes and lookups).
protocol ActsAsCaller: ExportScoped {
    var caller: MetaCaller { get set }
}

extension ActsAsCaller {
    var actingCaller: MetaCaller? {
        get { caller }
        set { if let newValue { caller = newValue } }
    }
}

/// A request that names no inode (sessions, statistics, the cluster's state).
protocol NamesNoInode {}

extension ExportScoped {
    var actingCaller: MetaCaller? {
        get { nil }
        set {}
    }
}

extension InodeRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

/// A request about one name in a directory (lookups with lookahead or without, unlinks): the
/// export turns ".." of its root into the root itself.
protocol NamesEntry: ActsAsCaller {
    var parent: UInt64 { get }
    var name: FileName { get set }
}

extension NamesEntry {
    var namedInodes: [UInt64] { [parent] }
}

extension NameRequest: NamesEntry {}

extension LookaheadRequest: NamesEntry {}

extension SetAttributesRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [inode] }
}

extension CreateRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [parent] }
}

extension MakeDirectoryRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [parent] }
}

extension MakeSymbolicLinkRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [parent] }
}

extension RenameRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [parent, newParent] }
}

extension LinkRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [inode, newParent] }
}

extension ReadDirectoryRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension ExtendedAttributeRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [inode] }
}

extension SetExtendedAttributeRequest: ActsAsCaller {
    var namedInodes: [UInt64] { [inode] }
}

extension UpdateSizeRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension WriteInlineRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension ConfirmDeletionsRequest: ExportScoped {
    var namedInodes: [UInt64] { inodes }
}

extension SessionInodeRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
    var actingCaller: MetaCaller? {
        get { opener?.caller }
        set { if let newValue { opener?.caller = newValue } }
    }
}

extension AcquireDataTokenRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension SetLockRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension TestLockRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension ReleaseLocksRequest: ExportScoped {
    var namedInodes: [UInt64] { [inode] }
}

extension WireEmpty: NamesNoInode {}
extension OpenSessionRequest: NamesNoInode {}
extension SessionRequest: NamesNoInode {}
extension CancelLockWaitRequest: NamesNoInode {}
extension LimitRequest: NamesNoInode {}
extension VolumeRequest: NamesNoInode {}

extension StatisticsRequest: ExportScoped {
    var namedInodes: [UInt64] { inode.map { [$0] } ?? [] }
}
