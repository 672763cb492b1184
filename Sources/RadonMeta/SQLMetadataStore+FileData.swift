import Foundation
import RadonWire

extension SQLMetadataStore {
    public func fileLayout(of inode: UInt64) async throws -> FileLayout {
        let layout = try await engine.read { db -> FileLayout? in
            let record = try db.regularFile(inode)
            guard record.groupID != nil else { return nil }
            return try db.layout(of: record)
        }
        if let layout { return layout }
        // Created before any volume existed: place it now, once.
        return try await committer.write { db in
            var record = try db.regularFile(inode)
            if record.groupID == nil {
                guard let volume = try db.defaultVolume() else {
                    throw WireError(.unavailable, "no volume exists yet; create one")
                }
                record.volumeID = volume.id
                record.groupID = try db.groupID(forNewFile: record.id, volumeID: volume.id)
                try db.save(record)
            }
            return try db.layout(of: record)
        }
    }

    public func updateSizeAfterWrite(_ request: UpdateSizeRequest) async throws -> InodeAttributes {
        let now = nowNanoseconds()
        return try await committer.write { db in
            var record = try db.regularFile(request.inode)
            guard !record.isInline else {
                throw WireError(.unsupported, "inode \(record.id) is inline: clearInline before writing blocks")
            }
            let previousSize = record.size
            try self.chargeSize(db, of: record, to: max(record.size, request.size))
            record.size = max(record.size, request.size)
            record.modificationTime = request.modificationTime?.totalNanoseconds ?? now
            record.touchChange(now)
            try db.save(record)
            try db.updateBlockMap(of: &record, writing: request.writtenBlocks, previousSize: previousSize)
            return record.attributes
        }
    }

    public func readInline(of inode: UInt64) async throws -> InlineDataReply {
        try await engine.read { db in
            let record = try db.regularFile(inode)
            guard record.isInline else { return InlineDataReply(isInline: false, bytes: []) }
            return InlineDataReply(isInline: true, bytes: try db.inlineBytes(of: inode))
        }
    }

    public func writeInline(_ request: WriteInlineRequest) async throws -> WriteInlineReply {
        let now = nowNanoseconds()
        return try await committer.write { db in
            db.prefetchInlineBytes(of: request.inode)
            db.prefetchVolume(ofInode: request.inode)
            var record = try db.regularFile(request.inode)
            let threshold = try db.inlineThreshold(of: record)
            let (end, overflow) = request.offset.addingReportingOverflow(UInt64(request.bytes.count))
            guard record.isInline, !overflow, end <= UInt64(threshold) else {
                return WriteInlineReply(stored: false, attributes: record.attributes)
            }
            var bytes = try db.inlineBytes(of: record.id)
            let offset = Int(request.offset)
            if request.truncate, bytes.count > Int(end) { bytes.removeLast(bytes.count - Int(end)) }
            if bytes.count < Int(end) { bytes.append(contentsOf: repeatElement(0, count: Int(end) - bytes.count)) }
            bytes.replaceSubrange(offset..<Int(end), with: request.bytes)
            try self.chargeSize(db, of: record, to: UInt64(bytes.count))
            try db.execute("UPDATE inode SET inline_data = ? WHERE id = ?", [Data(bytes), record.id])
            record.size = UInt64(bytes.count)
            record.touchContent(now)
            try db.save(record)
            return WriteInlineReply(stored: true, attributes: record.attributes)
        }
    }

    public func clearInline(of inode: UInt64) async throws -> InlineDataReply {
        try await committer.write { db in
            var record = try db.regularFile(inode)
            guard record.isInline else { return InlineDataReply(isInline: false, bytes: []) }
            let bytes = try db.inlineBytes(of: inode)
            try db.moveOutOfInline(&record)
            record.generation &+= 1
            try db.save(record)
            return InlineDataReply(isInline: true, bytes: bytes)
        }
    }

    public func pendingDeletions(limit: Int) async throws -> [RemovedFile] {
        try await engine.read { db in
            try db.rows(
                "SELECT inode, volume_id, group_id, size FROM removed_file ORDER BY removed_at, inode LIMIT ?",
                [max(0, min(limit, 65536))]
            ).map { RemovedFile(inode: $0[0], volumeID: $0[1], groupID: $0[2], size: $0[3]) }
        }
    }

    public func confirmDeletions(_ inodes: [UInt64]) async throws {
        try await committer.write { db in
            for inode in inodes { try db.execute("DELETE FROM removed_file WHERE inode = ?", [inode]) }
        }
    }
}

extension SQLTransaction {
    /// The inode, which must be a regular file (EISDIR for a directory, EINVAL otherwise).
    func regularFile(_ id: UInt64) throws -> InodeRecord {
        let record = try inode(id)
        switch record.kind {
        case .regular: return record
        case .directory: throw FileSystemError.isDirectory("inode \(id) is a directory")
        default: throw FileSystemError.invalid("inode \(id) is not a regular file")
        }
    }

    /// Where a placed file's blocks live, resolved to node addresses.
    func layout(of record: InodeRecord) throws -> FileLayout {
        guard let groupID = record.groupID, let group = try placementGroup(id: groupID),
              let volume = try volume(id: group.volumeID) else {
            throw WireError(.corrupt, "inode \(record.id) names group \(record.groupID ?? 0), which does not exist")
        }
        let placement = try nodeEndpointsAndMapEpoch()
        return try FileLayout(record: record, volume: volume, group: group, endpoints: placement.endpoints, mapEpoch: placement.mapEpoch)
    }
}

extension FileLayout {
    /// The layout of `record`, placed in `group` of `volume`, with the group's members resolved
    /// through `endpoints` (`nodeEndpoints()`).
    init(record: InodeRecord, volume: VolumeSettings, group: PlacementGroup, endpoints: [UInt32: NodeEndpoint], mapEpoch: UInt64) throws {
        let members = try group.members.map { id in
            guard let endpoint = endpoints[id] else { throw WireError(.corrupt, "group \(group.id) names unknown node \(id)") }
            return endpoint
        }
        self.init(
            inode: record.id, size: record.size, isInline: record.isInline, volume: volume, group: group,
            members: members, mapEpoch: mapEpoch
        )
    }
}
