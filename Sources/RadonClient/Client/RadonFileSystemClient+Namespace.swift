/// Namespace operations: straight to the metadata service, which checks permissions against
/// the caller; the client only keeps the attribute cache honest.
extension RadonFileSystemClient {
    /// Runs a metadata call, turning wire errors into the POSIX errors callers expect.
    func service<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw FileSystemError(describing: error)
        }
    }

    public func lookup(parent: UInt64, name: FileName, context: RequestContext) async throws -> InodeAttributes {
        try await lookupEntry(parent: parent, name: name, context: context).attributes
    }

    public func attributes(of inode: UInt64) async throws -> InodeAttributes {
        if let cached = cachedAttributes(inode) { return await withLocalSize(cached) }
        let attributes = try await service { try await meta().attributes(of: inode) }
        return await withLocalSize(remember(attributes))
    }

    public func makeNode(parent: UInt64, name: FileName, kind: InodeKind, permissions: UInt32, rdev: UInt64, context: RequestContext) async throws -> InodeAttributes {
        let reply = try await service {
            try await meta().create(parent: parent, name: name, kind: kind, permissions: permissions, rdev: rdev, exclusive: true, caller: context.caller)
        }
        forgetName(name, in: parent)
        if let directory = reply.parent { remember(directory) } else { forgetAttributes(parent) }
        return remember(reply.attributes)
    }

    public func makeDirectory(parent: UInt64, name: FileName, permissions: UInt32, context: RequestContext) async throws -> InodeAttributes {
        let attributes = try await service { try await meta().makeDirectory(parent: parent, name: name, permissions: permissions, caller: context.caller) }
        forgetName(name, in: parent)
        forgetAttributes(parent)
        return remember(attributes)
    }

    public func makeSymbolicLink(parent: UInt64, name: FileName, target: [UInt8], context: RequestContext) async throws -> InodeAttributes {
        let attributes = try await service { try await meta().makeSymbolicLink(parent: parent, name: name, target: target, caller: context.caller) }
        forgetName(name, in: parent)
        forgetAttributes(parent)
        return remember(attributes)
    }

    public func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8] {
        try await service { try await meta().readSymbolicLink(inode) }
    }

    public func removeFile(parent: UInt64, name: FileName, context: RequestContext) async throws {
        let reply = try await service { try await meta().removal(parent: parent, name: name, caller: context.caller) }
        // Some inode lost a link: its cached link count and ctime are stale; which one is not
        // known without a lookup, so forget them all (they are cheap to fetch again), but the
        // directory's, which the reply carries. A lookahead window that held the name knows the
        // inode: then only its names go (an unlink scan keeps its window), else every window.
        state.withLock { state in
            state.attributes.removeAll()
            state.lookahead.forgetRemoval(of: name, in: parent)
        }
        if let directory = reply.parent { remember(directory) }
        if let removed = reply.removed { await deleteFragments(of: removed) }
    }

    public func removeDirectory(parent: UInt64, name: FileName, context: RequestContext) async throws {
        try await service { try await meta().removeDirectory(parent: parent, name: name, caller: context.caller) }
        forgetName(name, in: parent)
        forgetAttributes(parent)
    }

    public func rename(parent: UInt64, name: FileName, newParent: UInt64, newName: FileName, mode: RenameMode, context: RequestContext) async throws {
        let metaMode: MetaRenameMode = switch mode {
        case .replace: .replace
        case .noReplace: .noReplace
        case .exchange: .exchange
        }
        let removed = try await service {
            try await meta().rename(parent: parent, name: name, newParent: newParent, newName: newName, mode: metaMode, caller: context.caller)
        }
        forgetAll()
        if let removed { await deleteFragments(of: removed) }
    }

    public func link(_ inode: UInt64, newParent: UInt64, newName: FileName, context: RequestContext) async throws -> InodeAttributes {
        let attributes = try await service { try await meta().link(inode, newParent: newParent, newName: newName, caller: context.caller) }
        forgetName(newName, in: newParent)
        forgetAttributes(newParent, inode)
        return await withLocalSize(remember(attributes))
    }

    public func readDirectory(_ inode: UInt64, after cookie: UInt64, limit: Int) async throws -> [DirectoryEntry] {
        let entries = try await service { try await meta().readDirectory(inode, after: cookie, limit: limit) }
        var result: [DirectoryEntry] = []
        result.reserveCapacity(entries.count)
        for var entry in entries {
            if entry.name != .dot && entry.name != .dotDot { remember(entry.attributes) }
            entry.attributes = await withLocalSize(entry.attributes)
            result.append(entry)
        }
        return result
    }

    public func statistics() async throws -> FileSystemStatistics {
        try await service { try await meta().statistics() }
    }

    public func statistics(of inode: UInt64) async throws -> FileSystemStatistics {
        try await service { try await meta().statistics(of: inode) }
    }

    public func extendedAttribute(of inode: UInt64, name: String) async throws -> [UInt8] {
        try await service { try await meta().extendedAttribute(of: inode, name: name) }
    }

    public func setExtendedAttribute(of inode: UInt64, name: String, value: [UInt8], flags: Int32, context: RequestContext) async throws {
        try await service { try await meta().setExtendedAttribute(of: inode, name: name, value: value, flags: flags, caller: context.caller) }
        forgetAttributes(inode)
    }

    public func extendedAttributeNames(of inode: UInt64) async throws -> [String] {
        try await service { try await meta().extendedAttributeNames(of: inode) }
    }

    public func removeExtendedAttribute(of inode: UInt64, name: String, context: RequestContext) async throws {
        try await service { try await meta().removeExtendedAttribute(of: inode, name: name, caller: context.caller) }
        forgetAttributes(inode)
    }

    /// Deletes the fragments of a file whose last name went away, when the service hands that
    /// to the client (a service with a deletion sweeper does it itself and answers nil; one
    /// that keeps a file open anywhere keeps it as an orphan), and tells the service they are gone.
    func deleteFragments(of removed: RemovedFile) async {
        forgetAttributes(removed.inode)
        do {
            let members = try await members(ofGroup: removed.groupID, volume: removed.volumeID)
            try await store.delete(inode: removed.inode, groupID: removed.groupID, members: members)
            try await meta().confirmDeletions([removed.inode])
            cache.removeAll(inode: removed.inode)
        } catch {
            // The service keeps it on its pending list; a later sweep deletes the fragments.
            logger.warning("fragments of a removed file not deleted yet", metadata: ["inode": "\(removed.inode)", "error": "\(error)"])
        }
    }

    /// The members of group `groupID`, from the volume's group map (fetched once, refreshed when
    /// the group is not in it).
    func members(ofGroup groupID: UInt32, volume volumeID: UInt32) async throws -> [NodeEndpoint] {
        func resolve(_ map: GroupMap) -> [NodeEndpoint]? {
            guard let group = map.groups.first(where: { $0.id == groupID }) else { return nil }
            let nodes = Dictionary(map.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let members = group.members.compactMap { nodes[$0] }
            return members.count == group.members.count ? members : nil
        }
        if let map = state.withLock({ $0.groupMaps[volumeID] }), let members = resolve(map) { return members }
        let map = try await meta().groupMap(volumeID: volumeID)
        remember(map, volume: volumeID)
        guard let members = resolve(map) else { throw FileSystemError.io("group \(groupID) is not in the map of volume \(volumeID)") }
        return members
    }

    /// Keeps `map` for `members(ofGroup:volume:)` and gives its node paths to the router.
    func remember(_ map: GroupMap, volume volumeID: UInt32) {
        state.withLock { state in
            state.groupMaps[volumeID] = map
            state.groupMaps[map.volume.id] = map
            state.pathEpochs[map.volume.id] = max(state.pathEpochs[map.volume.id] ?? map.epoch, map.epoch)
        }
        router.learn(map.nodes)
    }

    /// Makes sure the router knows the paths of `layout`'s nodes: layouts carry one address
    /// per node (they sit inside other messages, where no trailing field fits), the group map
    /// carries them all. Read once per volume and map epoch (a node that registers other paths
    /// moves the epoch); a service that cannot answer leaves the nodes single-path.
    func learnPaths(for layout: FileLayout) async {
        let volumeID = layout.volume.id
        guard state.withLock({ $0.pathEpochs[volumeID].map { $0 < layout.mapEpoch } ?? true }) else { return }
        do {
            remember(try await meta().groupMap(volumeID: volumeID), volume: volumeID)
        } catch {
            logger.debug("no group map for the node paths", metadata: ["volume": "\(volumeID)", "error": "\(error)"])
        }
    }
}
