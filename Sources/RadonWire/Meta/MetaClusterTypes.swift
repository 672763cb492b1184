import NIOCore

/// A volume: how the files in it are coded and placed.
public struct VolumeSettings: Sendable, Hashable, Codable {
    public var id: UInt32
    public var name: String
    /// "mojette-systematic" (default), "mojette" or "rs".
    public var codec: String
    /// Data fragments per block.
    public var k: UInt32
    /// Fragments per block (data + redundancy); also the members of each placement group.
    public var n: UInt32
    /// Bytes of file data per block.
    public var blockSize: UInt32
    /// Files up to this many bytes live in their inode, with no fragments at all.
    public var inlineThreshold: UInt32
    public var groupCount: UInt32
    /// The volume new files go to when their directory names none (the first one created).
    public var isDefault: Bool

    public init(
        id: UInt32, name: String, codec: String, k: UInt32, n: UInt32, blockSize: UInt32,
        inlineThreshold: UInt32, groupCount: UInt32, isDefault: Bool
    ) {
        self.id = id
        self.name = name
        self.codec = codec
        self.k = k
        self.n = n
        self.blockSize = blockSize
        self.inlineThreshold = inlineThreshold
        self.groupCount = groupCount
        self.isDefault = isDefault
    }

    /// The codec names the service accepts.
    public static let codecs = ["mojette-systematic", "mojette", "rs"]
}

/// What `createVolume` asks for; the service picks the id and the placement.
public struct VolumeSpecification: Sendable, Hashable {
    public var name: String
    public var codec: String
    public var k: UInt32
    public var n: UInt32
    public var blockSize: UInt32
    public var inlineThreshold: UInt32
    public var groupCount: UInt32

    public init(
        name: String, codec: String = "mojette-systematic", k: UInt32 = 4, n: UInt32 = 6,
        blockSize: UInt32 = 1 << 20, inlineThreshold: UInt32 = 4096, groupCount: UInt32 = 64
    ) {
        self.name = name
        self.codec = codec
        self.k = k
        self.n = n
        self.blockSize = blockSize
        self.inlineThreshold = inlineThreshold
        self.groupCount = groupCount
    }
}

/// A storage node's liveness as the metadata service judges it from heartbeats.
public enum NodeState: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Heartbeats arrive.
    case up = 0
    /// Missed heartbeats for `--down-after` seconds: don't wait on it, writes go elsewhere.
    case down = 1
    /// Silent for `--lost-after` seconds: its fragments are to be rebuilt elsewhere.
    case lost = 2

    public var description: String {
        switch self {
        case .up: "up"
        case .down: "down"
        case .lost: "lost"
        }
    }
}

/// A registered storage node, as `nodes` and `status` list it.
public struct NodeInfo: Sendable, Hashable {
    /// Stable id, given at first registration and returned on every re-registration.
    public var id: UInt32
    /// The UUID the storage daemon keeps in its data directory: its identity.
    public var uuid: String
    public var address: WireAddress
    /// Nodes on one host share a host id; empty means "a host of its own".
    public var hostID: String
    public var dataDirectory: String
    /// The daemon's process id, as it reported it (0 if unknown).
    public var pid: Int32
    public var capacity: UInt64
    public var free: UInt64
    public var fragmentCount: UInt64
    public var state: NodeState
    /// When the node entered `state`.
    public var since: Timestamp
    public var lastSeen: Timestamp
    /// The node's other network paths, after `address` (see `RegisterNodeRequest.extraAddresses`).
    /// On the wire they trail the whole `ClusterStatus` (`NodePaths`), so old readers skip them.
    public var extraAddresses: [WireAddress]

    public init(
        id: UInt32, uuid: String, address: WireAddress, hostID: String, dataDirectory: String,
        pid: Int32, capacity: UInt64, free: UInt64, fragmentCount: UInt64, state: NodeState,
        since: Timestamp, lastSeen: Timestamp, extraAddresses: [WireAddress] = []
    ) {
        self.id = id
        self.uuid = uuid
        self.address = address
        self.hostID = hostID
        self.dataDirectory = dataDirectory
        self.pid = pid
        self.capacity = capacity
        self.free = free
        self.fragmentCount = fragmentCount
        self.state = state
        self.since = since
        self.lastSeen = lastSeen
        self.extraAddresses = extraAddresses
    }
}

/// A node as a client needs it to reach a group member.
///
/// `address` is the node's identity for the client (hung-node bookkeeping, logs) and its first
/// path; `extraAddresses` are its other paths. A `GroupMap` carries them as a trailing field
/// (`NodePaths`); a `FileLayout` does not (it sits inside other messages, where no trailing
/// field fits), so the client learns paths from the group map.
public struct NodeEndpoint: Sendable, Hashable {
    public var id: UInt32
    public var address: WireAddress
    public var state: NodeState
    public var extraAddresses: [WireAddress]

    public init(id: UInt32, address: WireAddress, state: NodeState, extraAddresses: [WireAddress] = []) {
        self.id = id
        self.address = address
        self.state = state
        self.extraAddresses = extraAddresses
    }
}

/// One placement group: fragment j of every block of its files lives on `members[j]`.
public struct PlacementGroup: Sendable, Hashable {
    /// Cluster-wide group id (storage daemons keep fragments under `g<id>/`).
    public var id: UInt32
    public var volumeID: UInt32
    /// Position of the group within its volume, 0..<groupCount.
    public var index: UInt32
    /// The map epoch of this group's last change.
    public var epoch: UInt64
    /// Node ids, one per fragment index.
    public var members: [UInt32]

    public init(id: UInt32, volumeID: UInt32, index: UInt32, epoch: UInt64, members: [UInt32]) {
        self.id = id
        self.volumeID = volumeID
        self.index = index
        self.epoch = epoch
        self.members = members
    }
}

/// A volume's whole placement map at one epoch, with the addresses of every member node.
public struct GroupMap: Sendable, Hashable {
    /// The cluster's map epoch, bumped on every change of any group.
    public var epoch: UInt64
    public var volume: VolumeSettings
    public var groups: [PlacementGroup]
    public var nodes: [NodeEndpoint]

    public init(epoch: UInt64, volume: VolumeSettings, groups: [PlacementGroup], nodes: [NodeEndpoint]) {
        self.epoch = epoch
        self.volume = volume
        self.groups = groups
        self.nodes = nodes
    }
}

/// Where a file's data lives: everything the client core needs to read or write its blocks.
public struct FileLayout: Sendable, Hashable {
    public var inode: UInt64
    public var size: UInt64
    /// The file's bytes are in its inode (`readInline`), not in fragments.
    public var isInline: Bool
    public var volume: VolumeSettings
    public var group: PlacementGroup
    /// `group.members` resolved to addresses, in fragment-index order.
    public var members: [NodeEndpoint]
    /// The cluster's map epoch when this layout was read.
    public var mapEpoch: UInt64

    public init(
        inode: UInt64, size: UInt64, isInline: Bool, volume: VolumeSettings, group: PlacementGroup,
        members: [NodeEndpoint], mapEpoch: UInt64
    ) {
        self.inode = inode
        self.size = size
        self.isInline = isInline
        self.volume = volume
        self.group = group
        self.members = members
        self.mapEpoch = mapEpoch
    }
}

/// Everything `radonfs status` shows.
public struct ClusterStatus: Sendable, Hashable {
    public var nodes: [NodeInfo]
    public var groups: [PlacementGroup]
    public var volumes: [VolumeSettings]
    public var mapEpoch: UInt64
    public var inodeCount: UInt64
    /// The service's clock when it answered, so `since` can be shown as an age.
    public var now: Timestamp
    /// The address of the metadata server that answered, as it advertises itself (`--advertise`);
    /// empty from a server that does not say. A trailing field on the wire, written only when
    /// not empty, so older servers' and clients' answers read unchanged.
    public var metaServer: String

    public init(
        nodes: [NodeInfo], groups: [PlacementGroup], volumes: [VolumeSettings], mapEpoch: UInt64,
        inodeCount: UInt64, now: Timestamp, metaServer: String = ""
    ) {
        self.metaServer = metaServer
        self.nodes = nodes
        self.groups = groups
        self.volumes = volumes
        self.mapEpoch = mapEpoch
        self.inodeCount = inodeCount
        self.now = now
    }
}

/// A file whose last name went away while it still had fragments on storage nodes; someone
/// (the client that removed it, or a later sweep) deletes the fragments, then confirms.
public struct RemovedFile: Sendable, Hashable {
    public var inode: UInt64
    public var volumeID: UInt32
    public var groupID: UInt32
    public var size: UInt64

    public init(inode: UInt64, volumeID: UInt32, groupID: UInt32, size: UInt64) {
        self.inode = inode
        self.volumeID = volumeID
        self.groupID = groupID
        self.size = size
    }
}

/// A node's liveness change, as the sweep found it.
public struct NodeStateTransition: Sendable, Hashable {
    public var nodeID: UInt32
    public var from: NodeState
    public var to: NodeState
    public var at: Timestamp

    public init(nodeID: UInt32, from: NodeState, to: NodeState, at: Timestamp) {
        self.nodeID = nodeID
        self.from = from
        self.to = to
        self.at = at
    }
}
