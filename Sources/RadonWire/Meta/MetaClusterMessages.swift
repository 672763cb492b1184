import NIOCore

// Requests and replies of the node registry, volumes and placement map.

/// A storage daemon introducing itself. `uuid` is kept in its data directory, so a restarted
/// daemon (even on a new port) gets its node id back.
public struct RegisterNodeRequest: WireMessage, Hashable {
    public var uuid: String
    public var address: WireAddress
    public var hostID: String
    public var dataDirectory: String
    public var pid: Int32
    public var capacity: UInt64
    public var free: UInt64
    /// Names the file system the data directory is on (machine and device), so statfs counts
    /// a disk shared by several daemons once. `hostID` cannot: it is the failure domain the
    /// operator chose, and the local cluster gives each daemon on one disk its own. Empty
    /// (a daemon from before this field) means "a file system of its own".
    ///
    /// On the wire it is a trailing field, written only when not empty, so a registry reads
    /// older daemons' requests unchanged.
    public var fileSystemID: String
    /// The node's other network paths (one per `--listen`/`--advertise` after the first), which
    /// a client uses as a load-balancing group with `address` (see `NodePathSet`).
    ///
    /// A trailing field after `fileSystemID` (written, even empty, when there are extra
    /// addresses), so older registries read the request and see a single-path node.
    public var extraAddresses: [WireAddress]

    public init(
        uuid: String, address: WireAddress, hostID: String, dataDirectory: String, pid: Int32, capacity: UInt64, free: UInt64,
        fileSystemID: String = "", extraAddresses: [WireAddress] = []
    ) {
        self.uuid = uuid
        self.address = address
        self.hostID = hostID
        self.dataDirectory = dataDirectory
        self.pid = pid
        self.capacity = capacity
        self.free = free
        self.fileSystemID = fileSystemID
        self.extraAddresses = extraAddresses
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(uuid)
        buffer.writeMetaAddress(address)
        buffer.writeWireString(hostID)
        buffer.writeWireString(dataDirectory)
        buffer.writeInteger(pid)
        buffer.writeInteger(capacity)
        buffer.writeInteger(free)
        if !fileSystemID.isEmpty || !extraAddresses.isEmpty { buffer.writeWireString(fileSystemID) }
        if !extraAddresses.isEmpty { buffer.writeWireArray(extraAddresses) { $0.writeMetaAddress($1) } }
    }

    public init(from buffer: inout ByteBuffer) throws {
        uuid = try buffer.readWireString(maximumLength: 64)
        address = try buffer.readMetaAddress()
        hostID = try buffer.readWireString(maximumLength: 255)
        dataDirectory = try buffer.readWireString(maximumLength: 4096)
        pid = try buffer.readWireInteger()
        capacity = try buffer.readWireInteger()
        free = try buffer.readWireInteger()
        fileSystemID = buffer.readableBytes > 0 ? try buffer.readWireString(maximumLength: 1024) : ""
        extraAddresses = buffer.readableBytes > 0
            ? try buffer.readWireArray(maximumCount: NodePaths.maximumExtraAddresses) { try $0.readMetaAddress() } : []
    }
}

/// The registry's answer to a registration or heartbeat.
public struct NodeAcknowledgement: WireMessage, Hashable {
    public var nodeID: UInt32
    /// The node's state before this message (a node back from `lost` must resynchronise).
    public var previousState: NodeState
    /// The cluster's map epoch: a node that sees it change re-reads the map.
    public var mapEpoch: UInt64
    /// The client certificates whose exports are read-only: the node refuses their fragment
    /// writes (`ReadOnlyClients`). A trailing field: a reply without it reads as none.
    public var readOnlyClients: [String]

    public init(nodeID: UInt32, previousState: NodeState, mapEpoch: UInt64, readOnlyClients: [String] = []) {
        self.nodeID = nodeID
        self.previousState = previousState
        self.mapEpoch = mapEpoch
        self.readOnlyClients = readOnlyClients
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(nodeID)
        buffer.writeInteger(previousState.rawValue)
        buffer.writeInteger(mapEpoch)
        buffer.writeWireArray(readOnlyClients) { $0.writeWireString($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        nodeID = try buffer.readWireInteger()
        previousState = try NodeState.read(from: &buffer)
        mapEpoch = try buffer.readWireInteger()
        readOnlyClients = buffer.readableBytes > 0
            ? try buffer.readWireArray(maximumCount: 1 << 16) { try $0.readWireString(maximumLength: 1024) }
            : []
    }
}

public struct HeartbeatRequest: WireMessage, Hashable {
    public var nodeID: UInt32
    public var capacity: UInt64
    public var free: UInt64
    public var fragmentCount: UInt64

    public init(nodeID: UInt32, capacity: UInt64, free: UInt64, fragmentCount: UInt64) {
        self.nodeID = nodeID
        self.capacity = capacity
        self.free = free
        self.fragmentCount = fragmentCount
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(nodeID)
        buffer.writeInteger(capacity)
        buffer.writeInteger(free)
        buffer.writeInteger(fragmentCount)
    }

    public init(from buffer: inout ByteBuffer) throws {
        nodeID = try buffer.readWireInteger()
        capacity = try buffer.readWireInteger()
        free = try buffer.readWireInteger()
        fragmentCount = try buffer.readWireInteger()
    }
}

public struct NodeListReply: WireMessage, Hashable {
    public var nodes: [NodeInfo]
    public init(_ nodes: [NodeInfo]) { self.nodes = nodes }
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(nodes) { $1.encode(into: &$0) }
        buffer.writeTrailingExtraAddresses(nodes.map(\.extraAddresses))
    }
    public init(from buffer: inout ByteBuffer) throws {
        nodes = try buffer.readWireArray { try NodeInfo(from: &$0) }
        for (index, extra) in try buffer.readTrailingExtraAddresses(count: nodes.count).enumerated() {
            nodes[index].extraAddresses = extra
        }
    }
}

public struct VolumeListReply: WireMessage, Hashable {
    public var volumes: [VolumeSettings]
    public init(_ volumes: [VolumeSettings]) { self.volumes = volumes }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeWireArray(volumes) { $1.encode(into: &$0) } }
    public init(from buffer: inout ByteBuffer) throws { volumes = try buffer.readWireArray { try VolumeSettings(from: &$0) } }
}

/// A volume by id; 0 names the default volume.
public struct VolumeRequest: WireMessage, Hashable {
    public var volumeID: UInt32
    public init(volumeID: UInt32) { self.volumeID = volumeID }
    public func encode(into buffer: inout ByteBuffer) { buffer.writeInteger(volumeID) }
    public init(from buffer: inout ByteBuffer) throws { volumeID = try buffer.readWireInteger() }
}

/// Puts `nodeID` at fragment index `index` of group `groupID` (a new map epoch).
public struct ReplaceMemberRequest: WireMessage, Hashable {
    public var groupID: UInt32
    public var index: UInt32
    public var nodeID: UInt32

    public init(groupID: UInt32, index: UInt32, nodeID: UInt32) {
        self.groupID = groupID
        self.index = index
        self.nodeID = nodeID
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(groupID)
        buffer.writeInteger(index)
        buffer.writeInteger(nodeID)
    }

    public init(from buffer: inout ByteBuffer) throws {
        groupID = try buffer.readWireInteger()
        index = try buffer.readWireInteger()
        nodeID = try buffer.readWireInteger()
    }
}
