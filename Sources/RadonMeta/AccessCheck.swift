import RadonWire

/// The permission checks POSIX makes for namespace operations, made at the service so a
/// client without `default_permissions` cannot get around them. uid 0 bypasses all of them.
struct AccessMask: OptionSet, Sendable {
    let rawValue: UInt32
    static let read = AccessMask(rawValue: 4)
    static let write = AccessMask(rawValue: 2)
    static let execute = AccessMask(rawValue: 1)
}

extension MetaCaller {
    /// Throws EACCES unless the caller has every right in `mask` on `inode`: the owner's bits
    /// for the owner, else the group's for a member, else the others'.
    func require(_ mask: AccessMask, on inode: InodeRecord) throws {
        try require(mask, inode: inode.id, owner: inode.uid, group: inode.gid, permissions: inode.permissions)
    }

    /// The same check on attributes a reply carries (an open's).
    func require(_ mask: AccessMask, on attributes: InodeAttributes) throws {
        try require(mask, inode: attributes.inode, owner: attributes.uid, group: attributes.gid, permissions: attributes.permissions)
    }

    private func require(_ mask: AccessMask, inode: UInt64, owner: UInt32, group: UInt32, permissions: UInt32) throws {
        guard !isRoot else { return }
        let bits: UInt32
        if uid == owner {
            bits = (permissions >> 6) & 7
        } else if isMember(of: group) {
            bits = (permissions >> 3) & 7
        } else {
            bits = permissions & 7
        }
        guard bits & mask.rawValue == mask.rawValue else {
            throw FileSystemError.permissionDenied("uid \(uid) lacks access to inode \(inode)")
        }
    }

    /// Adding or removing a name in `directory`: write and search on it.
    func requireChange(of directory: InodeRecord) throws {
        try require([.write, .execute], on: directory)
    }

    /// The sticky bit: in a directory with S_ISVTX only the owner of the entry or of the
    /// directory (or root) may remove or rename it; EPERM otherwise, as Linux answers.
    func requireStickyPermission(in directory: InodeRecord, toRemove victim: InodeRecord) throws {
        guard !isRoot, directory.permissions & 0o1000 != 0 else { return }
        guard uid == victim.uid || uid == directory.uid else {
            throw FileSystemError.notPermitted("sticky directory \(directory.id): only the owner may remove inode \(victim.id)")
        }
    }

    /// Owner-only changes (chmod, explicit utimes): EPERM for anyone else but root.
    func requireOwnership(of inode: InodeRecord) throws {
        guard isRoot || uid == inode.uid else {
            throw FileSystemError.notPermitted("uid \(uid) does not own inode \(inode.id)")
        }
    }
}
