/// The file system as a client with a subtree export sees it: the exported directory is its
/// root. The mount speaks of the root as inode 1 (FUSE's root), so this view turns 1 into the
/// export's directory on the way in and that directory back into 1 on the way out; every
/// other inode passes through unchanged.
///
/// The view only translates. What keeps the client inside its subtree is the metadata
/// service, which judges every request by the client certificate's export.
public struct ExportedSubtree: FileSystemOperations {
    public let base: any FileSystemOperations
    /// The exported directory's inode (never 1: a whole-tree export needs no view).
    public let root: UInt64

    public init(_ base: any FileSystemOperations, root: UInt64) {
        self.base = base
        self.root = root
    }

    private static let mountRoot: UInt64 = 1

    private func inward(_ inode: UInt64) -> UInt64 { inode == Self.mountRoot ? root : inode }

    private func outward(_ attributes: InodeAttributes) -> InodeAttributes {
        guard attributes.inode == root else { return attributes }
        var shown = attributes
        shown.inode = Self.mountRoot
        return shown
    }

    public func lookup(parent: UInt64, name: FileName, context: RequestContext) async throws -> InodeAttributes {
        outward(try await base.lookup(parent: inward(parent), name: name, context: context))
    }

    public func lookupEntry(parent: UInt64, name: FileName, context: RequestContext) async throws -> LookedUpEntry {
        var entry = try await base.lookupEntry(parent: inward(parent), name: name, context: context)
        entry.attributes = outward(entry.attributes)
        return entry
    }

    public func attributes(of inode: UInt64) async throws -> InodeAttributes {
        outward(try await base.attributes(of: inward(inode)))
    }

    public func setAttributes(of inode: UInt64, _ changes: AttributeChanges, handle: FileHandle?, context: RequestContext) async throws -> InodeAttributes {
        outward(try await base.setAttributes(of: inward(inode), changes, handle: handle, context: context))
    }

    public func makeNode(parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64, context: RequestContext) async throws -> InodeAttributes {
        try await base.makeNode(parent: inward(parent), name: name, kind: kind, permissions: permissions, rdev: rdev, context: context)
    }

    public func makeDirectory(parent: UInt64, name: FileName, permissions: UInt32, context: RequestContext) async throws -> InodeAttributes {
        try await base.makeDirectory(parent: inward(parent), name: name, permissions: permissions, context: context)
    }

    public func makeSymbolicLink(parent: UInt64, name: FileName, target: [UInt8], context: RequestContext) async throws -> InodeAttributes {
        try await base.makeSymbolicLink(parent: inward(parent), name: name, target: target, context: context)
    }

    public func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8] {
        try await base.readSymbolicLink(inward(inode))
    }

    public func removeFile(parent: UInt64, name: FileName, context: RequestContext) async throws {
        try await base.removeFile(parent: inward(parent), name: name, context: context)
    }

    public func removeDirectory(parent: UInt64, name: FileName, context: RequestContext) async throws {
        try await base.removeDirectory(parent: inward(parent), name: name, context: context)
    }

    public func rename(parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: RenameMode, context: RequestContext) async throws {
        try await base.rename(parent: inward(parent), name: name, newParent: inward(newParent), newName: newName, mode: mode, context: context)
    }

    public func link(_ inode: UInt64, newParent: UInt64, newName: FileName, context: RequestContext) async throws -> InodeAttributes {
        try await base.link(inward(inode), newParent: inward(newParent), newName: newName, context: context)
    }

    public func create(parent: UInt64, name: FileName, permissions: UInt32, flags: OpenFlags, exclusive: Bool, context: RequestContext) async throws -> CreatedFile {
        try await base.create(parent: inward(parent), name: name, permissions: permissions, flags: flags, exclusive: exclusive, context: context)
    }

    public func open(_ inode: UInt64, flags: OpenFlags, context: RequestContext) async throws -> FileHandle {
        try await base.open(inward(inode), flags: flags, context: context)
    }

    public func read(_ handle: FileHandle, offset: UInt64, count: Int) async throws -> [UInt8] {
        try await base.read(handle, offset: offset, count: count)
    }

    public func write(_ handle: FileHandle, offset: UInt64, bytes: [UInt8]) async throws -> Int {
        try await base.write(handle, offset: offset, bytes: bytes)
    }

    public func flush(_ handle: FileHandle) async throws { try await base.flush(handle) }
    public func fsync(_ handle: FileHandle, dataOnly: Bool) async throws { try await base.fsync(handle, dataOnly: dataOnly) }
    public func release(_ handle: FileHandle) async throws { try await base.release(handle) }

    public func allocate(_ handle: FileHandle, offset: UInt64, length: UInt64, mode: Int32) async throws {
        try await base.allocate(handle, offset: offset, length: length, mode: mode)
    }

    public func readDirectory(_ inode: UInt64, after cookie: UInt64, limit: Int) async throws -> [DirectoryEntry] {
        try await base.readDirectory(inward(inode), after: cookie, limit: limit).map { entry in
            var shown = entry
            shown.attributes = outward(entry.attributes)
            return shown
        }
    }

    public func statistics() async throws -> FileSystemStatistics { try await base.statistics() }
    public func statistics(of inode: UInt64) async throws -> FileSystemStatistics { try await base.statistics(of: inward(inode)) }

    public func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] {
        try await base.extendedAttribute(of: inward(inode), name: name)
    }

    public func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        try await base.setExtendedAttribute(of: inward(inode), name: name, value: value, flags: flags, context: context)
    }

    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        try await base.extendedAttributeNames(of: inward(inode))
    }

    public func removeExtendedAttribute(of inode: UInt64, name: String, context: RequestContext) async throws {
        try await base.removeExtendedAttribute(of: inward(inode), name: name, context: context)
    }

    public func getLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode, range: LockRange) async throws -> LockConflict? {
        try await base.getLock(inward(inode), owner: owner, mode: mode, range: range)
    }

    public func setLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, range: LockRange, pid: Int32, wait: Bool) async throws {
        try await base.setLock(inward(inode), owner: owner, mode: mode, range: range, pid: pid, wait: wait)
    }

    public func flock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, pid: Int32, wait: Bool) async throws {
        try await base.flock(inward(inode), owner: owner, mode: mode, pid: pid, wait: wait)
    }

    public func releaseLocks(_ inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) async throws {
        try await base.releaseLocks(inward(inode), owner: owner, kinds: kinds)
    }
}
