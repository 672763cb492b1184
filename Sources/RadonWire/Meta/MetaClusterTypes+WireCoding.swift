import NIOCore

extension NodeState {
    static func read(from buffer: inout ByteBuffer) throws -> NodeState {
        let raw = try buffer.readWireInteger(as: UInt8.self)
        guard let state = NodeState(rawValue: raw) else { throw WireError.badRequest("unknown node state \(raw)") }
        return state
    }
}

extension VolumeSettings: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(id)
        buffer.writeWireString(name)
        buffer.writeWireString(codec)
        buffer.writeInteger(k)
        buffer.writeInteger(n)
        buffer.writeInteger(blockSize)
        buffer.writeInteger(inlineThreshold)
        buffer.writeInteger(groupCount)
        buffer.writeWireBool(isDefault)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            id: try buffer.readWireInteger(),
            name: try buffer.readWireString(maximumLength: MetaLimits.maximumNameLength),
            codec: try buffer.readWireString(maximumLength: 64),
            k: try buffer.readWireInteger(),
            n: try buffer.readWireInteger(),
            blockSize: try buffer.readWireInteger(),
            inlineThreshold: try buffer.readWireInteger(),
            groupCount: try buffer.readWireInteger(),
            isDefault: try buffer.readWireBool()
        )
    }
}

extension VolumeSpecification: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(name)
        buffer.writeWireString(codec)
        buffer.writeInteger(k)
        buffer.writeInteger(n)
        buffer.writeInteger(blockSize)
        buffer.writeInteger(inlineThreshold)
        buffer.writeInteger(groupCount)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            name: try buffer.readWireString(maximumLength: MetaLimits.maximumNameLength),
            codec: try buffer.readWireString(maximumLength: 64),
            k: try buffer.readWireInteger(),
            n: try buffer.readWireInteger(),
            blockSize: try buffer.readWireInteger(),
            inlineThreshold: try buffer.readWireInteger(),
            groupCount: try buffer.readWireInteger()
        )
    }
}

extension NodeInfo: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(id)
        buffer.writeWireString(uuid)
        buffer.writeMetaAddress(address)
        buffer.writeWireString(hostID)
        buffer.writeWireString(dataDirectory)
        buffer.writeInteger(pid)
        buffer.writeInteger(capacity)
        buffer.writeInteger(free)
        buffer.writeInteger(fragmentCount)
        buffer.writeInteger(state.rawValue)
        since.encode(into: &buffer)
        lastSeen.encode(into: &buffer)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            id: try buffer.readWireInteger(),
            uuid: try buffer.readWireString(maximumLength: 64),
            address: try buffer.readMetaAddress(),
            hostID: try buffer.readWireString(maximumLength: 255),
            dataDirectory: try buffer.readWireString(maximumLength: 4096),
            pid: try buffer.readWireInteger(),
            capacity: try buffer.readWireInteger(),
            free: try buffer.readWireInteger(),
            fragmentCount: try buffer.readWireInteger(),
            state: try NodeState.read(from: &buffer),
            since: try Timestamp(from: &buffer),
            lastSeen: try Timestamp(from: &buffer)
        )
    }
}

extension NodeEndpoint: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(id)
        buffer.writeMetaAddress(address)
        buffer.writeInteger(state.rawValue)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(id: try buffer.readWireInteger(), address: try buffer.readMetaAddress(), state: try NodeState.read(from: &buffer))
    }
}

extension PlacementGroup: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(id)
        buffer.writeInteger(volumeID)
        buffer.writeInteger(index)
        buffer.writeInteger(epoch)
        buffer.writeWireArray(members) { $0.writeInteger($1) }
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            id: try buffer.readWireInteger(),
            volumeID: try buffer.readWireInteger(),
            index: try buffer.readWireInteger(),
            epoch: try buffer.readWireInteger(),
            members: try buffer.readWireArray(maximumCount: 255) { try $0.readWireInteger() }
        )
    }
}

extension GroupMap: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(epoch)
        volume.encode(into: &buffer)
        buffer.writeWireArray(groups) { $1.encode(into: &$0) }
        buffer.writeWireArray(nodes) { $1.encode(into: &$0) }
        buffer.writeTrailingExtraAddresses(nodes.map(\.extraAddresses))
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            epoch: try buffer.readWireInteger(),
            volume: try VolumeSettings(from: &buffer),
            groups: try buffer.readWireArray { try PlacementGroup(from: &$0) },
            nodes: try buffer.readWireArray { try NodeEndpoint(from: &$0) }
        )
        for (index, extra) in try buffer.readTrailingExtraAddresses(count: nodes.count).enumerated() {
            nodes[index].extraAddresses = extra
        }
    }
}

extension FileLayout: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(size)
        buffer.writeWireBool(isInline)
        volume.encode(into: &buffer)
        group.encode(into: &buffer)
        buffer.writeWireArray(members) { $1.encode(into: &$0) }
        buffer.writeInteger(mapEpoch)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            inode: try buffer.readWireInteger(),
            size: try buffer.readWireInteger(),
            isInline: try buffer.readWireBool(),
            volume: try VolumeSettings(from: &buffer),
            group: try PlacementGroup(from: &buffer),
            members: try buffer.readWireArray(maximumCount: 255) { try NodeEndpoint(from: &$0) },
            mapEpoch: try buffer.readWireInteger()
        )
    }
}

extension ClusterStatus: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireArray(nodes) { $1.encode(into: &$0) }
        buffer.writeWireArray(groups) { $1.encode(into: &$0) }
        buffer.writeWireArray(volumes) { $1.encode(into: &$0) }
        buffer.writeInteger(mapEpoch)
        buffer.writeInteger(inodeCount)
        now.encode(into: &buffer)
        // Two trailing fields: the metadata server's name (written, even empty, when the
        // node paths follow), then the nodes' extra addresses.
        let extraAddresses = nodes.map(\.extraAddresses)
        if !metaServer.isEmpty || extraAddresses.contains(where: { !$0.isEmpty }) { buffer.writeWireString(metaServer) }
        buffer.writeTrailingExtraAddresses(extraAddresses)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            nodes: try buffer.readWireArray { try NodeInfo(from: &$0) },
            groups: try buffer.readWireArray { try PlacementGroup(from: &$0) },
            volumes: try buffer.readWireArray { try VolumeSettings(from: &$0) },
            mapEpoch: try buffer.readWireInteger(),
            inodeCount: try buffer.readWireInteger(),
            now: try Timestamp(from: &buffer)
        )
        metaServer = buffer.readableBytes > 0 ? try buffer.readWireString(maximumLength: 1024) : ""
        for (index, extra) in try buffer.readTrailingExtraAddresses(count: nodes.count).enumerated() {
            nodes[index].extraAddresses = extra
        }
    }
}

extension RemovedFile: WireMessage {
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(inode)
        buffer.writeInteger(volumeID)
        buffer.writeInteger(groupID)
        buffer.writeInteger(size)
    }

    public init(from buffer: inout ByteBuffer) throws {
        self.init(
            inode: try buffer.readWireInteger(), volumeID: try buffer.readWireInteger(),
            groupID: try buffer.readWireInteger(), size: try buffer.readWireInteger()
        )
    }
}
