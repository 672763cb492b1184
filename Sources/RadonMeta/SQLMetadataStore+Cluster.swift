import RadonWire

extension SQLMetadataStore {
    public func registerNode(_ request: RegisterNodeRequest) async throws -> NodeAcknowledgement {
        guard !request.uuid.isEmpty else { throw WireError(.invalidArgument, "a node must send the UUID kept in its data directory") }
        guard (1...65535).contains(request.address.port), !request.address.host.isEmpty else {
            throw WireError(.invalidArgument, "node address \(request.address) cannot be reached")
        }
        for extra in request.extraAddresses where !(1...65535).contains(extra.port) || extra.host.isEmpty {
            throw WireError(.invalidArgument, "node address \(extra) cannot be reached")
        }
        let extraAddresses = Self.extraAddressesText(request.extraAddresses)
        let now = nowNanoseconds()
        return try await committer.write { db in
            if let row = try db.row("SELECT id, state, extra_addresses FROM node WHERE uuid = ?", [request.uuid]) {
                let id: UInt32 = row[0]
                let previous = NodeState(rawValue: row[1]) ?? .lost
                try db.execute(
                    """
                    UPDATE node SET host = ?, port = ?, host_id = ?, data_dir = ?, pid = ?, capacity = ?, free = ?, last_seen = ?,
                        file_system = ?, extra_addresses = ?
                    WHERE id = ?
                    """,
                    [request.address.host, request.address.port, request.hostID, request.dataDirectory, request.pid,
                     request.capacity, request.free, now, request.fileSystemID, extraAddresses, id]
                )
                // Clients learn paths from the group map, which they re-read when the epoch moves.
                if (row[2] as String) != extraAddresses { _ = try db.bumpMapEpoch() }
                if previous != .up { try db.setNodeState(id, to: .up, since: now) }
                return NodeAcknowledgement(nodeID: id, previousState: previous, mapEpoch: try db.mapEpoch())
            }
            let inserted = try db.row(
                """
                INSERT INTO node (uuid, host, port, host_id, data_dir, pid, capacity, free, fragments, state, state_since, last_seen, file_system,
                    extra_addresses)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?) RETURNING id
                """,
                [request.uuid, request.address.host, request.address.port, request.hostID, request.dataDirectory,
                 request.pid, request.capacity, request.free, NodeState.up.rawValue, now, now, request.fileSystemID, extraAddresses]
            )
            guard let inserted else { throw WireError(.internalError, "INSERT RETURNING gave no row") }
            return NodeAcknowledgement(nodeID: inserted[0], previousState: .up, mapEpoch: try db.mapEpoch())
        }
    }

    public func heartbeat(_ request: HeartbeatRequest) async throws -> NodeAcknowledgement {
        let now = nowNanoseconds()
        return try await committer.write { db in
            guard let row = try db.row("SELECT state FROM node WHERE id = ?", [request.nodeID]) else {
                throw WireError(.notFound, "node \(request.nodeID) is not registered; register again")
            }
            let previous = NodeState(rawValue: row[0]) ?? .lost
            try db.execute(
                "UPDATE node SET capacity = ?, free = ?, fragments = ?, last_seen = ? WHERE id = ?",
                [request.capacity, request.free, request.fragmentCount, now, request.nodeID]
            )
            if previous != .up { try db.setNodeState(request.nodeID, to: .up, since: now) }
            return NodeAcknowledgement(nodeID: request.nodeID, previousState: previous, mapEpoch: try db.mapEpoch())
        }
    }

    public func nodes() async throws -> [NodeInfo] {
        try await engine.read { db in try db.allNodes() }
    }

    public func sweepLiveness(now: Timestamp, downAfter: Double, lostAfter: Double, notBefore: Timestamp) async throws -> [NodeStateTransition] {
        let nowNanos = now.totalNanoseconds
        let floor = notBefore.totalNanoseconds
        let downNanos = Int64(downAfter * 1e9)
        let lostNanos = Int64(max(lostAfter, downAfter) * 1e9)
        return try await committer.write { db in
            var transitions: [NodeStateTransition] = []
            for node in try db.allNodes() where node.state != .lost {
                let heardFrom = max(node.lastSeen.totalNanoseconds, floor)
                let silence = nowNanos - heardFrom
                let newState: NodeState
                let since: Int64
                if silence >= lostNanos {
                    (newState, since) = (.lost, heardFrom + lostNanos)
                } else if silence >= downNanos, node.state == .up {
                    (newState, since) = (.down, heardFrom + downNanos)
                } else {
                    continue
                }
                try db.setNodeState(node.id, to: newState, since: since)
                transitions.append(NodeStateTransition(nodeID: node.id, from: node.state, to: newState, at: Timestamp(nanoseconds: since)))
            }
            return transitions
        }
    }

    public func createVolume(_ specification: VolumeSpecification) async throws -> VolumeSettings {
        try Self.validate(specification)
        return try await committer.write { db in
            if try db.row("SELECT 1 FROM volume WHERE name = ?", [specification.name]) != nil {
                throw WireError(.exists, "volume \"\(specification.name)\" exists")
            }
            var planner = PlacementPlanner(nodes: try db.allNodes(), existingGroups: try db.placementGroups(volumeID: nil))
            guard planner.distinctHosts >= Int(specification.n) else {
                throw WireError(.unavailable, "a \(specification.k)+\(specification.n - specification.k) volume needs \(specification.n) storage nodes up on distinct hosts; \(planner.distinctHosts) are")
            }
            let isDefault = try db.defaultVolume() == nil
            let inserted = try db.row(
                """
                INSERT INTO volume (name, codec, k, n, block_size, inline_threshold, group_count, is_default)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                [specification.name, specification.codec, specification.k, specification.n, specification.blockSize,
                 specification.inlineThreshold, specification.groupCount, isDefault]
            )
            guard let inserted else { throw WireError(.internalError, "INSERT RETURNING gave no row") }
            let volumeID: UInt32 = inserted[0]
            let epoch = try db.bumpMapEpoch()
            for index in 0..<Int(specification.groupCount) {
                guard let members = planner.members(count: Int(specification.n), index: index) else {
                    throw WireError(.unavailable, "not enough distinct hosts for group \(index)")
                }
                try db.insertPlacementGroup(volumeID: volumeID, index: UInt32(index), epoch: epoch, members: members)
            }
            guard let volume = try db.volume(id: volumeID) else { throw WireError(.internalError, "volume vanished") }
            return volume
        }
    }

    static func validate(_ specification: VolumeSpecification) throws {
        func invalid(_ message: String) -> WireError { WireError(.invalidArgument, message) }
        guard !specification.name.isEmpty, specification.name.utf8.count <= MetaLimits.maximumNameLength else {
            throw invalid("a volume name is 1 to \(MetaLimits.maximumNameLength) bytes")
        }
        // `radonfs.layout` values name volumes as words of `key=value` pairs.
        guard !specification.name.contains(where: { $0.isWhitespace || $0 == "=" || $0.isNewline }) else {
            throw invalid("a volume name has no spaces and no \"=\", got \"\(specification.name)\"")
        }
        guard VolumeSettings.codecs.contains(specification.codec) else {
            throw invalid("unknown codec \"\(specification.codec)\"; one of \(VolumeSettings.codecs.joined(separator: ", "))")
        }
        guard specification.k >= 1, specification.n > specification.k, specification.n <= 32 else {
            throw invalid("need 1 <= k < n <= 32, got k=\(specification.k) n=\(specification.n)")
        }
        guard (4096...(16 << 20)).contains(specification.blockSize), specification.blockSize % specification.k == 0 else {
            throw invalid("block size must be 4 KiB to 16 MiB and a multiple of k, got \(specification.blockSize)")
        }
        guard specification.inlineThreshold <= MetaLimits.maximumInlineThreshold else {
            throw invalid("inline threshold at most \(MetaLimits.maximumInlineThreshold) bytes")
        }
        guard (1...4096).contains(specification.groupCount) else {
            throw invalid("1 to 4096 placement groups, got \(specification.groupCount)")
        }
    }

    public func volumes() async throws -> [VolumeSettings] {
        try await engine.read { db in try db.allVolumes() }
    }

    public func groupMap(volumeID: UInt32) async throws -> GroupMap {
        try await engine.read { db in
            guard let volume = try volumeID == 0 ? db.defaultVolume() : db.volume(id: volumeID) else {
                throw WireError(.notFound, volumeID == 0 ? "no volume exists yet" : "no volume \(volumeID)")
            }
            let groups = try db.placementGroups(volumeID: volume.id)
            let endpoints = try db.nodeEndpoints()
            let memberIDs = Set(groups.flatMap(\.members))
            let nodes = memberIDs.sorted().compactMap { endpoints[$0] }
            return GroupMap(epoch: try db.mapEpoch(), volume: volume, groups: groups, nodes: nodes)
        }
    }

    public func replaceMember(_ request: ReplaceMemberRequest) async throws -> PlacementGroup {
        try await committer.write { db in
            guard var group = try db.placementGroup(id: request.groupID) else {
                throw WireError(.notFound, "no placement group \(request.groupID)")
            }
            guard Int(request.index) < group.members.count else {
                throw WireError(.invalidArgument, "group \(group.id) has \(group.members.count) members, no index \(request.index)")
            }
            guard let node = try db.node(id: request.nodeID) else { throw WireError(.notFound, "no node \(request.nodeID)") }
            if group.members[Int(request.index)] == node.id { return group }
            if group.members.contains(node.id) {
                throw WireError(.exists, "node \(node.id) is already a member of group \(group.id)")
            }
            if !node.hostID.isEmpty {
                for (position, member) in group.members.enumerated() where position != Int(request.index) {
                    if let other = try db.node(id: member), other.hostID == node.hostID {
                        throw WireError(.invalidArgument, "node \(node.id) shares host \"\(node.hostID)\" with member \(member) of group \(group.id)")
                    }
                }
            }
            group.members[Int(request.index)] = node.id
            group.epoch = try db.bumpMapEpoch()
            try db.updateMembers(of: group)
            return group
        }
    }

    public func status() async throws -> ClusterStatus {
        let now = clock()
        return try await engine.read { db in
            ClusterStatus(
                nodes: try db.allNodes(), groups: try db.placementGroups(volumeID: nil), volumes: try db.allVolumes(),
                mapEpoch: try db.mapEpoch(),
                inodeCount: try db.row("SELECT count(*) FROM inode").map { $0[0] } ?? 0, now: now
            )
        }
    }

    /// statfs: usable space, after the code's overhead and a spare reserve.
    ///
    /// Raw capacity and free space are summed over the distinct file systems of the nodes not
    /// lost, and scaled by k/n of the default volume. Nodes that reported one file system
    /// (several daemons with data directories on one disk, as `radonfs up` makes them) count
    /// once, with the largest capacity and free space any of them reported (their reports
    /// differ only by when they were taken); a node that reported none counts on its own.
    /// The reserve is one file system's worth of usable space (the largest one's capacity x
    /// k/n) when there are more distinct file systems than n, so the fragments of a lost disk
    /// can always be rebuilt onto the others; with n or fewer (in particular every node on one
    /// disk) a lost disk cannot be rebuilt anyway, and the reserve is 5% of usable capacity.
    public func statistics() async throws -> FileSystemStatistics {
        try await engine.read { db in
            let disks = try db.distinctFileSystems()
            let volume = try db.defaultVolume()
            let (k, n) = (Double(volume?.k ?? 1), Double(volume?.n ?? 1))
            let rawCapacity = Double(disks.reduce(0) { $0 + $1.capacity })
            let rawFree = Double(disks.reduce(0) { $0 + min($1.free, $1.capacity) })
            let usableCapacity = rawCapacity * k / n
            let usableFree = rawFree * k / n
            let reserve = disks.count > Int(n)
                ? Double(disks.map(\.capacity).max() ?? 0) * k / n
                : usableCapacity * 0.05
            let blockSize: Double = 4096
            let inodes: UInt64 = try db.row("SELECT count(*) FROM inode").map { $0[0] } ?? 0
            let inodeLimit: UInt64 = 1 << 32
            return FileSystemStatistics(
                blockSize: UInt32(blockSize),
                totalBlocks: UInt64(usableCapacity / blockSize),
                freeBlocks: UInt64(usableFree / blockSize),
                availableBlocks: UInt64(max(0, usableFree - reserve) / blockSize),
                totalInodes: inodeLimit,
                freeInodes: inodeLimit - min(inodes, inodeLimit),
                maximumNameLength: UInt32(MetaLimits.maximumNameLength)
            )
        }
    }
}
