extension MetaClient {
    /// Where a regular file's blocks live: its volume (codec, k, n, block size), group, the
    /// group's members with addresses, and the map epoch.
    public func fileLayout(of inode: UInt64) async throws -> FileLayout {
        try await call(.fileLayout, InodeRequest(inode: inode))
    }

    /// After writing blocks up to `size`: grows the file to it (never shrinks) and sets mtime
    /// (nil: the service's now) and ctime.
    public func updateSizeAfterWrite(_ inode: UInt64, size: UInt64, modificationTime: Timestamp? = nil) async throws -> InodeAttributes {
        try await call(.updateSizeAfterWrite, UpdateSizeRequest(inode: inode, size: size, modificationTime: modificationTime))
    }

    /// The bytes of an inline file (`isInline` false: read its blocks instead).
    public func readInline(of inode: UInt64) async throws -> InlineDataReply {
        try await call(.readInline, InodeRequest(inode: inode))
    }

    /// Writes into an inline file; `stored` false when it is not inline or would outgrow the
    /// volume's threshold (then `clearInline` and write blocks). With `truncate` the file ends
    /// where the write ends (`offset: 0, truncate: true` replaces the whole content).
    public func writeInline(_ inode: UInt64, offset: UInt64, bytes: [UInt8], truncate: Bool = false) async throws -> WriteInlineReply {
        try await call(.writeInline, WriteInlineRequest(inode: inode, offset: offset, bytes: bytes, truncate: truncate))
    }

    /// Moves a file out of its inode: returns the bytes it held, to be written as blocks.
    public func clearInline(of inode: UInt64) async throws -> InlineDataReply {
        try await call(.clearInline, InodeRequest(inode: inode))
    }

    /// Removed files whose fragments are still to be deleted, oldest first.
    public func pendingDeletions(limit: Int = 1024) async throws -> [RemovedFile] {
        let reply: RemovedFilesReply = try await call(.pendingDeletions, LimitRequest(limit: UInt32(clamping: max(limit, 0))))
        return reply.files
    }

    /// The fragments of these removed files are gone: forget them.
    public func confirmDeletions(_ inodes: [UInt64]) async throws {
        let _: WireEmpty = try await call(.confirmDeletions, ConfirmDeletionsRequest(inodes: inodes))
    }
}

extension MetaClient {
    /// A storage daemon's registration; the same UUID always gets the same node id back.
    public func registerNode(_ request: RegisterNodeRequest) async throws -> NodeAcknowledgement {
        try await call(.registerNode, request)
    }

    /// Throws `WireError(.notFound)` for an unknown node id: register again.
    public func heartbeat(_ request: HeartbeatRequest) async throws -> NodeAcknowledgement {
        try await call(.heartbeat, request)
    }

    /// Every registered node with its liveness state and since when.
    public func nodes() async throws -> [NodeInfo] {
        let reply: NodeListReply = try await call(.nodes, WireEmpty())
        return reply.nodes
    }

    /// Nodes, groups and volumes, for `radonfs status`.
    public func status() async throws -> ClusterStatus {
        try await call(.status, WireEmpty())
    }

    /// Creates a volume and its placement groups from the nodes up now; the first volume
    /// becomes the default. `WireError(.unavailable)` when fewer than n hosts are up.
    public func createVolume(_ specification: VolumeSpecification) async throws -> VolumeSettings {
        try await call(.createVolume, specification)
    }

    public func volumes() async throws -> [VolumeSettings] {
        let reply: VolumeListReply = try await call(.volumes, WireEmpty())
        return reply.volumes
    }

    /// A volume's placement map (0: the default volume) with member addresses and the epoch.
    public func groupMap(volumeID: UInt32 = 0) async throws -> GroupMap {
        try await call(.groupMap, VolumeRequest(volumeID: volumeID))
    }

    /// Puts `nodeID` at fragment index `index` of group `groupID`; a new map epoch.
    public func replaceMember(groupID: UInt32, index: UInt32, nodeID: UInt32) async throws -> PlacementGroup {
        try await call(.replaceMember, ReplaceMemberRequest(groupID: groupID, index: index, nodeID: nodeID))
    }
}
