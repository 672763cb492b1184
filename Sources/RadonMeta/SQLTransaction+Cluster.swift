import RadonWire

/// Row-level reads and writes of volumes, placement groups, nodes and the map epoch.
extension SQLTransaction {
    static var volumeColumns: String { StoreQuery.volumeColumns }

    static func volume(from row: SQLRow) -> VolumeSettings {
        VolumeSettings(
            id: row[0], name: row[1], codec: row[2], k: row[3], n: row[4], blockSize: row[5],
            inlineThreshold: row[6], groupCount: row[7], isDefault: row[8]
        )
    }

    func volume(id: UInt32) throws -> VolumeSettings? {
        try self.row(StoreQuery.volume, [id]).map(Self.volume(from:))
    }

    func defaultVolume() throws -> VolumeSettings? {
        try self.row(StoreQuery.defaultVolume).map(Self.volume(from:))
    }

    func allVolumes() throws -> [VolumeSettings] {
        try self.rows("SELECT \(Self.volumeColumns) FROM volume ORDER BY id").map(Self.volume(from:))
    }

    /// The volume a new file in `directory` goes to: the directory's, else the default one.
    /// Read by the directory's number alone, in one statement, so `prefetchPlacement` can ask
    /// for it before the directory is read.
    func volumeForNewFile(inDirectory directory: UInt64) throws -> VolumeSettings? {
        try self.row(StoreQuery.volumeForNewFile, [directory]).map(Self.volume(from:))
    }

    /// The volume of `volumeForNewFile(inDirectory:)` and the group
    /// `placementGroup(forNewFile:volumeID:)` picks in it, read together: nil without a volume,
    /// the group nil when the volume has none.
    func placement(forNewFile inode: UInt64, inDirectory directory: UInt64) throws -> (volume: VolumeSettings, group: PlacementGroup?)? {
        guard let row = try self.row(StoreQuery.placementForNewFile, [directory, Int64(bitPattern: inode)]) else { return nil }
        let volume = Self.volume(from: row)
        let groupColumns = SQLRow(Array(row.values[StoreQuery.volumeColumnCount...]))
        if case .null = groupColumns.values[0] { return (volume, nil) }
        return (volume, try Self.placementGroup(from: groupColumns))
    }

    /// The volume `inode` is stored in, as the inode row says.
    func volume(ofInode inode: UInt64) throws -> VolumeSettings? {
        try self.row(StoreQuery.volumeOfInode, [inode]).map(Self.volume(from:))
    }


    /// New files take the groups of their volume in turn: inode numbers only grow, so
    /// `inode mod groupCount` is a round robin that costs no extra write.
    func groupID(forNewFile inode: UInt64, volumeID: UInt32) throws -> UInt32? {
        try placementGroup(forNewFile: inode, volumeID: volumeID)?.id
    }

    /// The group `groupID(forNewFile:volumeID:)` picks, whole.
    func placementGroup(forNewFile inode: UInt64, volumeID: UInt32) throws -> PlacementGroup? {
        try self.row(
            """
            SELECT \(StoreQuery.placementGroupColumns) FROM placement_group
            WHERE volume_id = ?1 AND idx = ?2 % (SELECT group_count FROM volume WHERE id = ?1)
            """,
            [volumeID, Int64(bitPattern: inode)]
        ).map(Self.placementGroup(from:))
    }

    static func placementGroup(from row: SQLRow) throws -> PlacementGroup {
        let text: String = row[4]
        let members = try text.split(separator: ",").map { part -> UInt32 in
            guard let id = UInt32(part) else { throw WireError(.corrupt, "bad member list \"\(text)\"") }
            return id
        }
        return PlacementGroup(id: row[0], volumeID: row[1], index: row[2], epoch: row[3], members: members)
    }

    func placementGroup(id: UInt32) throws -> PlacementGroup? {
        try self.row(StoreQuery.placementGroup, [id]).map(Self.placementGroup(from:))
    }

    func placementGroups(volumeID: UInt32?) throws -> [PlacementGroup] {
        if let volumeID {
            return try self.rows("SELECT \(StoreQuery.placementGroupColumns) FROM placement_group WHERE volume_id = ? ORDER BY idx", [volumeID])
                .map(Self.placementGroup(from:))
        }
        return try self.rows("SELECT \(StoreQuery.placementGroupColumns) FROM placement_group ORDER BY volume_id, idx")
            .map(Self.placementGroup(from:))
    }

    func insertPlacementGroup(volumeID: UInt32, index: UInt32, epoch: UInt64, members: [UInt32]) throws {
        try self.execute(
            "INSERT INTO placement_group (volume_id, idx, epoch, members) VALUES (?, ?, ?, ?)",
            [volumeID, index, epoch, members.map(String.init).joined(separator: ",")]
        )
    }

    func updateMembers(of group: PlacementGroup) throws {
        try self.execute(
            "UPDATE placement_group SET epoch = ?, members = ? WHERE id = ?",
            [group.epoch, group.members.map(String.init).joined(separator: ","), group.id]
        )
    }

    func mapEpoch() throws -> UInt64 {
        try self.row(StoreQuery.mapEpoch).map { $0[0] } ?? 0
    }

    /// A new map epoch, for a change of any group.
    func bumpMapEpoch() throws -> UInt64 {
        try self.execute("UPDATE counter SET value = value + 1 WHERE name = 'map_epoch'")
        return try mapEpoch()
    }

    static var nodeColumns: String { "id, uuid, host, port, host_id, data_dir, pid, capacity, free, fragments, state, state_since, last_seen, extra_addresses" }

    static func node(from row: SQLRow) throws -> NodeInfo {
        let rawState: UInt8 = row[10]
        guard let state = NodeState(rawValue: rawState) else { throw WireError(.corrupt, "node \(row[0] as Int64) has state \(rawState)") }
        return NodeInfo(
            id: row[0], uuid: row[1], address: WireAddress(host: row[2], port: row[3]), hostID: row[4],
            dataDirectory: row[5], pid: row[6], capacity: row[7], free: row[8], fragmentCount: row[9],
            state: state, since: Timestamp(nanoseconds: row[11]), lastSeen: Timestamp(nanoseconds: row[12]),
            extraAddresses: try SQLMetadataStore.extraAddresses(from: row[13])
        )
    }

    func allNodes() throws -> [NodeInfo] {
        try self.rows("SELECT \(Self.nodeColumns) FROM node ORDER BY id").map(Self.node(from:))
    }

    func node(id: UInt32) throws -> NodeInfo? {
        try self.row("SELECT \(Self.nodeColumns) FROM node WHERE id = ?", [id]).map(Self.node(from:))
    }

    func nodeEndpoints() throws -> [UInt32: NodeEndpoint] {
        var endpoints: [UInt32: NodeEndpoint] = [:]
        for row in try self.rows(StoreQuery.nodeEndpoints) {
            let endpoint = try Self.nodeEndpoint(from: row)
            endpoints[endpoint.id] = endpoint
        }
        return endpoints
    }

    /// What every layout names: the nodes' addresses and the map epoch, in one statement.
    func nodeEndpointsAndMapEpoch() throws -> (endpoints: [UInt32: NodeEndpoint], mapEpoch: UInt64) {
        var endpoints: [UInt32: NodeEndpoint] = [:]
        var mapEpoch: UInt64 = 0
        for row in try self.rows(StoreQuery.nodeEndpointsAndMapEpoch) {
            if case .null = row.values[0] {
                mapEpoch = row[5]
            } else {
                let endpoint = try Self.nodeEndpoint(from: row)
                endpoints[endpoint.id] = endpoint
            }
        }
        return (endpoints, mapEpoch)
    }

    /// A row of `StoreQuery.nodeEndpoints`' columns.
    private static func nodeEndpoint(from row: SQLRow) throws -> NodeEndpoint {
        let state = NodeState(rawValue: row[3]) ?? .lost
        let id: UInt32 = row[0]
        return NodeEndpoint(
            id: id, address: WireAddress(host: row[1], port: row[2]), state: state,
            extraAddresses: try SQLMetadataStore.extraAddresses(from: row[4])
        )
    }

    /// The space of each distinct file system the nodes not lost are on: nodes that reported
    /// one file system id share a row (the largest capacity and free space reported), a node
    /// that reported none has a row of its own. See `SQLMetadataStore.statistics()`.
    func distinctFileSystems() throws -> [(capacity: UInt64, free: UInt64)] {
        try self.rows(
            """
            SELECT max(capacity), max(CASE WHEN free < capacity THEN free ELSE capacity END) FROM node WHERE state != ?
            GROUP BY CASE WHEN file_system = '' THEN 'node ' || id ELSE file_system END
            """,
            [NodeState.lost.rawValue]
        ).map { (capacity: $0[0], free: $0[1]) }
    }

    func setNodeState(_ id: UInt32, to state: NodeState, since: Int64) throws {
        try self.execute("UPDATE node SET state = ?, state_since = ? WHERE id = ?", [state.rawValue, since, id])
    }
}
