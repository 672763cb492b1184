import Glibc
import RadonClient
import RadonMeta

/// A complete `FileSystemOperations` in memory: the test double that lets the FUSE glue be
/// mounted and driven by real tools without a cluster. It keeps POSIX semantics the tools rely
/// on (link counts, times, rename modes, xattr flags, sparse extension), not permissions: the
/// mount runs with `default_permissions`, so the kernel checks those.
actor InMemoryFileSystem: FileSystemOperations {
    private struct Node {
        var attributes: InodeAttributes
        var data: [UInt8] = []
        var children: [FileName: UInt64] = [:]
        var parent: UInt64 = 1
        var target: [UInt8] = []
        var extendedAttributes: [String: [UInt8]] = [:]
    }

    private struct OpenFile {
        var inode: UInt64
        var flags: OpenFlags
    }

    private var nodes: [UInt64: Node] = [:]
    /// Every mount of this file system shares one session: lock owners differ per mount anyway.
    private static let session: UInt64 = 1
    private let locks = LockManager(maximumWait: .seconds(1))
    private var openFiles: [UInt64: OpenFile] = [:]
    private var nextInode: UInt64 = 2
    private var nextHandle: UInt64 = 1
    /// Bytes any file may hold, so a runaway test cannot eat the machine's memory.
    private let capacity: UInt64 = 4 << 30
    /// How long lookups say their answers may be trusted (nil: fresh), and how many came.
    private(set) var lookupTrust: Duration?
    private(set) var lookups = 0

    func trustLookups(for trust: Duration?) { lookupTrust = trust }

    init() {
        let now = Self.now()
        let root = InodeAttributes(
            inode: 1, kind: .directory, permissions: 0o755, linkCount: 2, uid: 0, gid: 0, rdev: 0, size: 0,
            accessTime: now, modificationTime: now, changeTime: now, generation: 1)
        nodes[1] = Node(attributes: root)
    }

    static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: Int64(time.tv_sec), nanoseconds: UInt32(time.tv_nsec))
    }

    // MARK: Helpers

    private func node(_ inode: UInt64) throws -> Node {
        guard let node = nodes[inode] else { throw FileSystemError.notFound("inode \(inode)") }
        return node
    }

    private func directory(_ inode: UInt64) throws -> Node {
        let node = try node(inode)
        guard node.attributes.kind == .directory else { throw FileSystemError.notDirectory() }
        return node
    }

    private func touch(_ inode: UInt64, modified: Bool = true, changed: Bool = true) {
        let now = Self.now()
        if modified { nodes[inode]?.attributes.modificationTime = now }
        if changed { nodes[inode]?.attributes.changeTime = now }
        nodes[inode]?.attributes.generation += 1
    }

    private func checkName(_ name: FileName) throws {
        guard !name.isEmpty, name != .dot, name != .dotDot, !name.bytes.contains(UInt8(ascii: "/")) else {
            throw FileSystemError.invalid("\(name)")
        }
        guard name.count <= 255 else { throw FileSystemError.nameTooLong() }
    }

    private func insert(parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64, context: RequestContext) throws -> InodeAttributes {
        try checkName(name)
        let directory = try directory(parent)
        guard directory.children[name] == nil else { throw FileSystemError.exists("\(name)") }
        let now = Self.now()
        let inode = nextInode
        nextInode += 1
        // setgid directories hand their group down, as POSIX allows and Linux does.
        let inheritsGroup = directory.attributes.permissions & 0o2000 != 0
        var permissions = permissions
        if kind == .directory && inheritsGroup { permissions |= 0o2000 }
        let attributes = InodeAttributes(
            inode: inode, kind: kind, permissions: permissions, linkCount: kind == .directory ? 2 : 1,
            uid: context.uid, gid: inheritsGroup ? directory.attributes.gid : context.gid, rdev: rdev, size: 0,
            accessTime: now, modificationTime: now, changeTime: now, generation: 1)
        nodes[inode] = Node(attributes: attributes, parent: parent)
        nodes[parent]?.children[name] = inode
        if kind == .directory { nodes[parent]?.attributes.linkCount += 1 }
        touch(parent)
        return attributes
    }

    private func setSize(_ inode: UInt64, _ size: UInt64) throws {
        guard size <= capacity else { throw FileSystemError.noSpace() }
        guard try node(inode).attributes.kind == .regular else { throw FileSystemError.invalid("size of a non-file") }
        let count = try node(inode).data.count
        if size < UInt64(count) {
            nodes[inode]!.data.removeSubrange(Int(size)...)
        } else if size > UInt64(count) {
            nodes[inode]!.data.append(contentsOf: repeatElement(0, count: Int(size) - count))
        }
        nodes[inode]!.attributes.size = size
        touch(inode)
    }

    private func unlinkEntry(parent: UInt64, name: FileName) throws {
        let directory = try directory(parent)
        guard let inode = directory.children[name] else { throw FileSystemError.notFound("\(name)") }
        nodes[parent]?.children[name] = nil
        nodes[inode]?.attributes.linkCount -= 1
        touch(inode, modified: false)
        touch(parent)
    }

    // MARK: FileSystemOperations

    func lookupEntry(parent: UInt64, name: FileName, context: RequestContext) async throws -> LookedUpEntry {
        lookups += 1
        return LookedUpEntry(attributes: try await lookup(parent: parent, name: name, context: context), trustedFor: lookupTrust)
    }

    func lookup(parent: UInt64, name: FileName, context: RequestContext) async throws -> InodeAttributes {
        let directory = try directory(parent)
        if name == "." { return directory.attributes }
        if name == ".." { return try node(directory.parent).attributes }
        guard let inode = directory.children[name] else { throw FileSystemError.notFound("\(name)") }
        return try node(inode).attributes
    }

    func attributes(of inode: UInt64) async throws -> InodeAttributes {
        try node(inode).attributes
    }

    func setAttributes(of inode: UInt64, _ changes: AttributeChanges, handle: FileHandle?, context: RequestContext) async throws -> InodeAttributes {
        _ = try node(inode)
        if let size = changes.size { try setSize(inode, size) }
        if let permissions = changes.permissions { nodes[inode]?.attributes.permissions = permissions & 0o7777 }
        if let uid = changes.uid { nodes[inode]?.attributes.uid = uid }
        if let gid = changes.gid { nodes[inode]?.attributes.gid = gid }
        func resolve(_ change: AttributeChanges.TimeChange) -> Timestamp {
            switch change {
            case .now: Self.now()
            case .at(let time): time
            }
        }
        if let time = changes.accessTime { nodes[inode]?.attributes.accessTime = resolve(time) }
        if let time = changes.modificationTime { nodes[inode]?.attributes.modificationTime = resolve(time) }
        touch(inode, modified: false)
        return try node(inode).attributes
    }

    func makeNode(parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64, context: RequestContext) async throws -> InodeAttributes {
        try insert(parent: parent, name: name, kind: kind, permissions: permissions, rdev: rdev, context: context)
    }

    func makeDirectory(parent: UInt64, name: FileName, permissions: UInt32, context: RequestContext) async throws -> InodeAttributes {
        try insert(parent: parent, name: name, kind: .directory, permissions: permissions, rdev: 0, context: context)
    }

    func makeSymbolicLink(parent: UInt64, name: FileName, target: [UInt8], context: RequestContext) async throws -> InodeAttributes {
        var attributes = try insert(parent: parent, name: name, kind: .symlink, permissions: 0o777, rdev: 0, context: context)
        nodes[attributes.inode]?.target = target
        nodes[attributes.inode]?.attributes.size = UInt64(target.count)
        attributes.size = UInt64(target.count)
        return attributes
    }

    func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8] {
        let node = try node(inode)
        guard node.attributes.kind == .symlink else { throw FileSystemError.invalid("not a symlink") }
        return node.target
    }

    func removeFile(parent: UInt64, name: FileName, context: RequestContext) async throws {
        let directory = try directory(parent)
        guard let inode = directory.children[name] else { throw FileSystemError.notFound("\(name)") }
        guard try node(inode).attributes.kind != .directory else { throw FileSystemError.isDirectory("\(name)") }
        try unlinkEntry(parent: parent, name: name)
    }

    func removeDirectory(parent: UInt64, name: FileName, context: RequestContext) async throws {
        let directory = try directory(parent)
        guard let inode = directory.children[name] else { throw FileSystemError.notFound("\(name)") }
        let victim = try self.directory(inode)
        guard victim.children.isEmpty else { throw FileSystemError.notEmpty("\(name)") }
        nodes[parent]?.children[name] = nil
        nodes[parent]?.attributes.linkCount -= 1
        nodes[inode] = nil
        touch(parent)
    }

    func rename(parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: RenameMode, context: RequestContext) async throws {
        try checkName(newName)
        guard let source = try directory(parent).children[name] else { throw FileSystemError.notFound("\(name)") }
        let target = try directory(newParent).children[newName]
        let sourceIsDirectory = try node(source).attributes.kind == .directory
        switch mode {
        case .noReplace:
            guard target == nil else { throw FileSystemError.exists("\(newName)") }
        case .exchange:
            guard let target else { throw FileSystemError.notFound("\(newName)") }
            nodes[parent]?.children[name] = target
            nodes[newParent]?.children[newName] = source
            nodes[source]?.parent = newParent
            nodes[target]?.parent = parent
            let targetIsDirectory = try node(target).attributes.kind == .directory
            if parent != newParent, sourceIsDirectory != targetIsDirectory {
                let delta: Int32 = sourceIsDirectory ? 1 : -1
                nodes[newParent]?.attributes.linkCount = UInt32(Int32(nodes[newParent]!.attributes.linkCount) + delta)
                nodes[parent]?.attributes.linkCount = UInt32(Int32(nodes[parent]!.attributes.linkCount) - delta)
            }
            touch(parent)
            touch(newParent)
            touch(source, modified: false)
            touch(target, modified: false)
            return
        case .replace:
            break
        }
        if let target {
            if target == source { return }
            let targetNode = try node(target)
            if targetNode.attributes.kind == .directory {
                guard sourceIsDirectory else { throw FileSystemError.isDirectory("\(newName)") }
                guard targetNode.children.isEmpty else { throw FileSystemError.notEmpty("\(newName)") }
                nodes[newParent]?.children[newName] = nil
                nodes[newParent]?.attributes.linkCount -= 1
                nodes[target] = nil
            } else {
                guard !sourceIsDirectory else { throw FileSystemError.notDirectory("\(newName)") }
                try unlinkEntry(parent: newParent, name: newName)
            }
        }
        nodes[parent]?.children[name] = nil
        nodes[newParent]?.children[newName] = source
        nodes[source]?.parent = newParent
        if sourceIsDirectory, parent != newParent {
            nodes[parent]?.attributes.linkCount -= 1
            nodes[newParent]?.attributes.linkCount += 1
        }
        touch(parent)
        touch(newParent)
        touch(source, modified: false)
    }

    func link(_ inode: UInt64, newParent: UInt64, newName: FileName, context: RequestContext) async throws -> InodeAttributes {
        try checkName(newName)
        guard try node(inode).attributes.kind != .directory else { throw FileSystemError.notPermitted("hard link to a directory") }
        guard try directory(newParent).children[newName] == nil else { throw FileSystemError.exists("\(newName)") }
        nodes[newParent]?.children[newName] = inode
        nodes[inode]?.attributes.linkCount += 1
        touch(inode, modified: false)
        touch(newParent)
        return try node(inode).attributes
    }

    func create(parent: UInt64, name: FileName, permissions: UInt32, flags: OpenFlags, exclusive: Bool, context: RequestContext) async throws -> CreatedFile {
        if let existing = try directory(parent).children[name] {
            guard !exclusive else { throw FileSystemError.exists("\(name)") }
            return CreatedFile(attributes: try node(existing).attributes, handle: try await open(existing, flags: flags, context: context), isNew: false)
        }
        let attributes = try insert(parent: parent, name: name, kind: .regular, permissions: permissions, rdev: 0, context: context)
        return CreatedFile(attributes: attributes, handle: try await open(attributes.inode, flags: flags, context: context), isNew: true)
    }

    func open(_ inode: UInt64, flags: OpenFlags, context: RequestContext) async throws -> FileHandle {
        let node = try node(inode)
        guard node.attributes.kind != .directory || !flags.write else { throw FileSystemError.isDirectory() }
        if flags.truncate, flags.write, node.attributes.kind == .regular { try setSize(inode, 0) }
        let handle = nextHandle
        nextHandle += 1
        openFiles[handle] = OpenFile(inode: inode, flags: flags)
        return FileHandle(rawValue: handle)
    }

    private func openFile(_ handle: FileHandle) throws -> OpenFile {
        guard let file = openFiles[handle.rawValue] else { throw FileSystemError.badHandle() }
        return file
    }

    func read(_ handle: FileHandle, offset: UInt64, count: Int) async throws -> [UInt8] {
        let file = try openFile(handle)
        let data = try node(file.inode).data
        guard offset < UInt64(data.count) else { return [] }
        let end = min(data.count, Int(offset) + count)
        return Array(data[Int(offset)..<end])
    }

    func write(_ handle: FileHandle, offset: UInt64, bytes: [UInt8]) async throws -> Int {
        let file = try openFile(handle)
        guard file.flags.write else { throw FileSystemError.badHandle("not open for writing") }
        let count = try node(file.inode).data.count
        let start = file.flags.append ? count : Int(offset)
        let end = start + bytes.count
        guard UInt64(end) <= capacity else { throw FileSystemError.noSpace() }
        // Mutated in place (not copied out and back), so writes cost their own size only.
        if end > count { nodes[file.inode]!.data.append(contentsOf: repeatElement(0, count: end - count)) }
        nodes[file.inode]!.data.replaceSubrange(start..<end, with: bytes)
        nodes[file.inode]!.attributes.size = UInt64(max(count, end))
        touch(file.inode)
        return bytes.count
    }

    func flush(_ handle: FileHandle) async throws { _ = try openFile(handle) }
    func fsync(_ handle: FileHandle, dataOnly: Bool) async throws { _ = try openFile(handle) }

    func release(_ handle: FileHandle) async throws {
        _ = try openFile(handle)
        openFiles[handle.rawValue] = nil
    }

    func allocate(_ handle: FileHandle, offset: UInt64, length: UInt64, mode: Int32) async throws {
        let file = try openFile(handle)
        let keepSize: Int32 = 0x01, punchHole: Int32 = 0x02
        let size = try node(file.inode).attributes.size
        if mode & punchHole != 0 {
            let end = min(size, offset + length)
            if offset < end { nodes[file.inode]?.data.replaceSubrange(Int(offset)..<Int(end), with: repeatElement(0, count: Int(end - offset))) }
            touch(file.inode)
        } else if mode & ~keepSize != 0 {
            throw FileSystemError.unsupported("fallocate mode \(mode)")
        } else if mode & keepSize == 0, offset + length > size {
            try setSize(file.inode, offset + length)
        }
    }

    func readDirectory(_ inode: UInt64, after cookie: UInt64, limit: Int) async throws -> [DirectoryEntry] {
        let directory = try directory(inode)
        var all = [
            DirectoryEntry(name: ".", attributes: directory.attributes, cookie: 1),
            DirectoryEntry(name: "..", attributes: try node(directory.parent).attributes, cookie: 2),
        ]
        for (index, name) in directory.children.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }).enumerated() {
            all.append(DirectoryEntry(name: name, attributes: try node(directory.children[name]!).attributes, cookie: UInt64(index + 3)))
        }
        return Array(all.dropFirst(Int(min(cookie, UInt64(all.count)))).prefix(limit))
    }

    func statistics() async throws -> FileSystemStatistics {
        let used = nodes.values.reduce(UInt64(0)) { $0 + UInt64($1.data.count) }
        let blocks = capacity / 4096
        let free = blocks - min(blocks, (used + 4095) / 4096)
        return FileSystemStatistics(
            blockSize: 4096, totalBlocks: blocks, freeBlocks: free, availableBlocks: free,
            totalInodes: 1 << 20, freeInodes: (1 << 20) - UInt64(nodes.count), maximumNameLength: 255)
    }

    func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] {
        guard let value = try node(inode).extendedAttributes[name] else { throw FileSystemError.noAttribute("\(name)") }
        return value
    }

    func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        let exists = try node(inode).extendedAttributes[name] != nil
        if flags & 1 != 0, exists { throw FileSystemError.exists("\(name)") }
        if flags & 2 != 0, !exists { throw FileSystemError.noAttribute("\(name)") }
        nodes[inode]?.extendedAttributes[name] = value
        touch(inode, modified: false)
    }

    func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        try node(inode).extendedAttributes.keys.sorted()
    }

    func removeExtendedAttribute(of inode: UInt64, name: String, context: RequestContext) async throws {
        guard try node(inode).extendedAttributes[name] != nil else { throw FileSystemError.noAttribute("\(name)") }
        nodes[inode]?.extendedAttributes[name] = nil
        touch(inode, modified: false)
    }

    // MARK: Locks (the service's lock manager, in memory, for one session)

    func getLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode, range: LockRange) async throws -> LockConflict? {
        try await locks.test(TestLockRequest(session: Self.session, inode: inode, owner: owner, mode: mode, range: range))
    }

    func setLock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, range: LockRange, pid: Int32, wait: Bool) async throws {
        try await lock(SetLockRequest(session: Self.session, inode: inode, owner: owner, kind: .posix, mode: mode, range: range, pid: pid, wait: wait))
    }

    func flock(_ inode: UInt64, owner: UInt64, mode: FileLockMode?, pid: Int32, wait: Bool) async throws {
        try await lock(SetLockRequest(session: Self.session, inode: inode, owner: owner, kind: .flock, mode: mode, pid: pid, wait: wait))
    }

    func releaseLocks(_ inode: UInt64, owner: UInt64, kinds: Set<FileLockKind>) async throws {
        await locks.release(ReleaseLocksRequest(session: Self.session, inode: inode, owner: owner, kinds: kinds))
    }

    private func lock(_ request: SetLockRequest) async throws {
        guard request.wait else {
            _ = try await locks.set(request)
            return
        }
        try await LockWait.untilGranted { [locks] token in
            var attempt = request
            attempt.waitToken = token
            return try await locks.set(attempt)
        } cancel: { [locks] token in
            await locks.cancelWait(CancelLockWaitRequest(session: Self.session, waitToken: token))
        }
    }
}
