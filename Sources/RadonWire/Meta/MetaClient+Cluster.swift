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
