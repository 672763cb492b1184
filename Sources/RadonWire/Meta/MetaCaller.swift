/// Who asks: the identity the metadata service checks namespace permissions against.
///
/// The mount passes the kernel's uid/gid for each request; uid 0 bypasses every check, as root
/// does on a local disk. (RadonClient's `RequestContext` maps onto this one to one.)
public struct MetaCaller: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups, where known; membership of any grants group permissions.
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    public static let root = MetaCaller(uid: 0, gid: 0)

    public var isRoot: Bool { uid == 0 }

    /// Whether the caller is in group `gid` (primary or supplementary).
    public func isMember(of gid: UInt32) -> Bool {
        self.gid == gid || groups.contains(gid)
    }
}

/// How `rename` treats an existing target, as Linux `renameat2` flags.
public enum MetaRenameMode: UInt8, Sendable, Hashable, CaseIterable {
    /// Replace the target if it exists (plain `rename`).
    case replace = 0
    /// Fail with EEXIST if the target exists (`RENAME_NOREPLACE`).
    case noReplace = 1
    /// Swap source and target atomically; both must exist (`RENAME_EXCHANGE`).
    case exchange = 2
}
