import Foundation
import RadonWire

/// Per-directory layouts and re-encoding (issue 14): the `radonfs.layout` virtual attribute
/// (`LayoutAttribute`) shows and sets a directory's volume, which files created below it take
/// (`StoreQuery.volumeForNewFile`); `relayoutBegin` and `relayoutCommit` move an existing file
/// to another volume once a client has written its blocks there.
///
/// Re-encoding keeps the inode: the new fragments are written under the same inode number in
/// the target volume's group (a different directory on the storage nodes), and the commit
/// switches the inode's volume, group and block map in one transaction, queueing the old
/// fragments for deletion (`removed_file`) as an unlink would. It commits only while the file's
/// ctime is the one `relayoutBegin` saw and no client has it open, so a write during the copy
/// is never lost: the commit is refused and the copy starts again later.
extension SQLMetadataStore {
    /// `radonfs.layout` of any inode: the volume it (a file) lives in, or its files will (a directory).
    func layoutAttribute(of inode: UInt64) async throws -> [UInt8] {
        try await engine.read { db in
            let record = try db.inode(inode)
            guard let volume = try record.volumeID.flatMap({ try db.volume(id: $0) }) ?? db.defaultVolume() else {
                throw FileSystemError.noAttribute("no volume exists yet")
            }
            return Array(LayoutAttribute.describe(volume).utf8)
        }
    }

    /// Sets a directory's volume from `volume=NAME` (or `NAME`); its owner or root only.
    func setLayoutAttribute(_ request: SetExtendedAttributeRequest) async throws {
        guard let text = String(validating: request.value, as: UTF8.self), let name = LayoutAttribute.volumeName(in: text) else {
            throw FileSystemError.invalid("\(LayoutAttribute.name) takes volume=NAME")
        }
        try await changeDirectoryVolume(request.inode, caller: request.caller) { db, _ in
            guard let volume = try db.allVolumes().first(where: { $0.name == name }) else {
                throw FileSystemError.invalid("no volume named \"\(name)\" (`radonfs volume list`)")
            }
            return volume.id
        }
    }

    /// Removing `radonfs.layout` gives a directory its parent's volume again.
    func removeLayoutAttribute(_ request: ExtendedAttributeRequest) async throws {
        try await changeDirectoryVolume(request.inode, caller: request.caller) { db, record in
            guard let parent = record.parent, parent != record.id else { return try db.defaultVolume()?.id }
            return try db.inode(parent).volumeID ?? db.defaultVolume()?.id
        }
    }

    private func changeDirectoryVolume(
        _ inode: UInt64, caller: MetaCaller, _ volume: @escaping @Sendable (any SQLTransaction, InodeRecord) throws -> UInt32?
    ) async throws {
        let now = nowNanoseconds()
        try await committer.write { db in
            var record = try db.inode(inode)
            guard record.kind == .directory else {
                throw FileSystemError.invalid("\(LayoutAttribute.name) is set on directories; a file keeps the layout it was written with until `radonfs layout apply` re-encodes it")
            }
            guard caller.isRoot || caller.uid == record.uid else {
                throw FileSystemError.notPermitted("only the owner of directory \(inode) or root may change its layout")
            }
            record.volumeID = try volume(db, record)
            record.touchChange(now)
            try db.save(record)
        }
    }

    public func relayoutBegin(_ request: RelayoutBeginRequest) async throws -> RelayoutBeginReply {
        _ = try await fileLayout(of: request.inode)  // places a file written before any volume existed
        return try await engine.read { db in
            let record = try db.regularFile(request.inode)
            guard let volume = try db.volume(id: request.volumeID) else { throw FileSystemError.invalid("no volume \(request.volumeID)") }
            guard let group = try db.placementGroup(forNewFile: record.id, volumeID: volume.id) else {
                throw WireError(.unavailable, "volume \(volume.name) has no placement groups")
            }
            let placement = try db.nodeEndpointsAndMapEpoch()
            let target = try FileLayout(record: record, volume: volume, group: group, endpoints: placement.endpoints, mapEpoch: placement.mapEpoch)
            return RelayoutBeginReply(source: try db.layout(of: record), target: target, changeTime: Timestamp(nanoseconds: record.changeTime))
        }
    }

    public func relayoutCommit(_ request: RelayoutCommitRequest) async throws -> InodeAttributes {
        let now = nowNanoseconds()
        let openFiles = self.openFiles
        return try await committer.write { db in
            var record = try db.regularFile(request.inode)
            guard let group = try db.placementGroup(id: request.groupID), group.volumeID == request.volumeID else {
                throw FileSystemError.invalid("group \(request.groupID) is not in volume \(request.volumeID)")
            }
            guard record.groupID != group.id else { return record.attributes }  // a retry of a commit that went through
            guard record.changeTime == request.changeTime.totalNanoseconds else {
                throw WireError(.staleVersion, "inode \(record.id) changed while it was re-encoded")
            }
            guard !openFiles.isOpen(record.id) else { throw WireError(.staleVersion, "inode \(record.id) is open") }
            if !record.isInline, let volumeID = record.volumeID, let groupID = record.groupID {
                // One removed_file row per inode: wait until an earlier move's old fragments are gone.
                guard try db.row("SELECT 1 FROM removed_file WHERE inode = ?", [record.id]) == nil else {
                    throw WireError(.staleVersion, "the old fragments of inode \(record.id) from an earlier move are still being deleted")
                }
                try db.execute(
                    "INSERT INTO removed_file (inode, volume_id, group_id, size, removed_at) VALUES (?, ?, ?, ?, ?)",
                    [record.id, volumeID, groupID, record.size, now])
            }
            record.volumeID = request.volumeID
            record.groupID = group.id
            // Not a change of the file (ctime and mtime stay), but clients drop what they cached
            // of it: its blocks may have another size now.
            record.generation &+= 1
            try db.save(record)
            if !record.isInline {
                try db.execute("DELETE FROM block_map WHERE inode = ?", [record.id])
                try db.updateBlockMap(of: &record, writing: request.writtenBlocks, previousSize: 0)
            }
            return record.attributes
        }
    }
}
