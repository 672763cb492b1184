import NIOCore

/// The typed client of the metadata service: one async method per operation.
///
/// POSIX failures come back as `FileSystemError` with the server's exact errno, so the client
/// core hands them to FUSE unchanged; every other failure (transport, malformed request,
/// cluster-level refusals such as "no volume yet") is a `WireError`.
///
/// Calls go through a `MetaTransport`: one `WireConnection` (no retries), or a `MetaFailover`
/// (every metadata address, riding through outages, request ids on mutations).
public struct MetaClient: Sendable {
    public let transport: any MetaTransport
    /// How long one attempt of a call may wait for its reply.
    public var timeout: Duration

    public init(connection: WireConnection, timeout: Duration = .seconds(30)) {
        self.init(transport: connection, timeout: timeout)
    }

    public init(transport: any MetaTransport, timeout: Duration = .seconds(30)) {
        self.transport = transport
        self.timeout = timeout
    }

    /// One call: encodes, sends, decodes, and turns a POSIX failure into `FileSystemError`.
    func call<Response: WireMessage>(_ opcode: MetaOpcode, _ request: some WireMessage) async throws -> Response {
        do {
            return try Response(decoding: try await transport.call(metaOpcode: opcode.rawValue, payload: request.encoded(), timeout: timeout))
        } catch let error as WireError where error.errno != nil {
            throw FileSystemError(error)
        }
    }

    // MARK: Namespace

    public func lookup(parent: UInt64, name: FileName, caller: MetaCaller) async throws -> InodeAttributes {
        try await call(.lookup, NameRequest(parent: parent, name: name, caller: caller))
    }

    /// A lookup with up to `following` entries after the name in listing order (see
    /// `LookaheadRequest`).
    public func lookup(parent: UInt64, name: FileName, caller: MetaCaller, following: Int) async throws -> LookaheadReply {
        let clamped = UInt32(clamping: min(max(following, 0), MetaLimits.maximumDirectoryBatch))
        return try await call(.lookupAhead, LookaheadRequest(parent: parent, name: name, caller: caller, following: clamped))
    }

    public func attributes(of inode: UInt64) async throws -> InodeAttributes {
        try await call(.getAttributes, InodeRequest(inode: inode))
    }

    /// `throughWritableHandle`: the caller holds a descriptor of the file open for writing
    /// (see `SetAttributesRequest`).
    public func setAttributes(
        of inode: UInt64, _ changes: AttributeChanges, caller: MetaCaller, throughWritableHandle: Bool = false
    ) async throws -> InodeAttributes {
        try await call(.setAttributes, SetAttributesRequest(
            inode: inode, changes: changes, caller: caller, throughWritableHandle: throughWritableHandle))
    }

    /// Creates a regular file, fifo, socket or device node owned by `caller`. With
    /// `exclusive` false an existing file is returned (`created` false) rather than EEXIST.
    public func create(
        parent: UInt64, name: FileName, kind: InodeKind = .regular, permissions: UInt32, rdev: UInt64 = 0,
        exclusive: Bool, caller: MetaCaller, openSession: UInt64? = nil
    ) async throws -> CreateReply {
        try await call(.create, CreateRequest(
            parent: parent, name: name, kind: kind, permissions: permissions, rdev: rdev, exclusive: exclusive,
            caller: caller, openSession: openSession))
    }

    public func makeDirectory(parent: UInt64, name: FileName, permissions: UInt32, caller: MetaCaller) async throws -> InodeAttributes {
        try await call(.makeDirectory, MakeDirectoryRequest(parent: parent, name: name, permissions: permissions, caller: caller))
    }

    public func makeSymbolicLink(parent: UInt64, name: FileName, target: [UInt8], caller: MetaCaller) async throws -> InodeAttributes {
        try await call(.makeSymbolicLink, MakeSymbolicLinkRequest(parent: parent, name: name, target: target, caller: caller))
    }

    /// The target's bytes (any but NUL).
    public func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8] {
        let reply: BytesReply = try await call(.readSymbolicLink, InodeRequest(inode: inode))
        return reply.bytes
    }

    /// unlink. Returns the file whose last link went when it had fragments to delete
    /// (delete them, then `confirmDeletions`); nil otherwise.
    @discardableResult
    public func remove(parent: UInt64, name: FileName, caller: MetaCaller) async throws -> RemovedFile? {
        try await removal(parent: parent, name: name, caller: caller).removed
    }

    /// unlink, with the directory's attributes after it.
    public func removal(parent: UInt64, name: FileName, caller: MetaCaller) async throws -> RemovalReply {
        try await call(.remove, NameRequest(parent: parent, name: name, caller: caller))
    }

    public func removeDirectory(parent: UInt64, name: FileName, caller: MetaCaller) async throws {
        let _: WireEmpty = try await call(.removeDirectory, NameRequest(parent: parent, name: name, caller: caller))
    }

    /// rename / renameat2. Returns the replaced file when it lost its last link and had fragments.
    @discardableResult
    public func rename(
        parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: MetaRenameMode = .replace, caller: MetaCaller
    ) async throws -> RemovedFile? {
        let reply: RemovalReply = try await call(.rename, RenameRequest(parent: parent, name: name, newParent: newParent, newName: newName, mode: mode, caller: caller))
        return reply.removed
    }

    public func link(_ inode: UInt64, newParent: UInt64, newName: FileName, caller: MetaCaller) async throws -> InodeAttributes {
        try await call(.link, LinkRequest(inode: inode, newParent: newParent, newName: newName, caller: caller))
    }

    /// readdirplus: up to `limit` (at most `MetaLimits.maximumDirectoryBatch`) entries after
    /// `cookie`, with attributes; 0 starts with "." and "..". Fewer than asked means the end.
    public func readDirectory(_ inode: UInt64, after cookie: UInt64 = 0, limit: Int = 1024) async throws -> [DirectoryEntry] {
        let clamped = UInt32(clamping: min(max(limit, 0), MetaLimits.maximumDirectoryBatch))
        let reply: DirectoryListing = try await call(.readDirectory, ReadDirectoryRequest(inode: inode, after: cookie, limit: clamped))
        return reply.entries
    }

    public func statistics() async throws -> FileSystemStatistics {
        try await call(.statistics, WireEmpty())
    }

    // MARK: Extended attributes

    public func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] {
        let reply: BytesReply = try await call(.getExtendedAttribute, ExtendedAttributeRequest(inode: inode, name: name))
        return reply.bytes
    }

    /// `flags`: XATTR_CREATE (1) fails if present, XATTR_REPLACE (2) fails if absent.
    public func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32 = 0, caller: MetaCaller) async throws {
        let _: WireEmpty = try await call(.setExtendedAttribute, SetExtendedAttributeRequest(inode: inode, name: name, value: value, flags: flags, caller: caller))
    }

    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        let reply: NameListReply = try await call(.listExtendedAttributes, InodeRequest(inode: inode))
        return reply.names
    }

    public func removeExtendedAttribute(of inode: UInt64, name: String, caller: MetaCaller) async throws {
        let _: WireEmpty = try await call(.removeExtendedAttribute, ExtendedAttributeRequest(inode: inode, name: name, caller: caller))
    }
}
