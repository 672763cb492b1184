extension NodeInfo {
    /// The failure domain a group's positions are kept apart on (`PlacementPlanner`) and losses
    /// are counted by (`GroupProtection`): the node's host, as nodes sharing a host id fail
    /// together, or the node alone when it declares none.
    public var failureDomain: String { Self.failureDomain(ofNode: id, hostID: hostID) }

    /// The failure domain of node `id` on host `hostID`; with no host id (also for a node the
    /// registry does not list) the node is a domain of its own.
    public static func failureDomain(ofNode id: UInt32, hostID: String = "") -> String {
        hostID.isEmpty ? "node:\(id)" : "host:\(hostID)"
    }
}
