import Foundation
import RadonWire
import Synchronization

extension SQLMetadataStore {
    public func lookup(_ request: NameRequest) async throws -> InodeAttributes {
        guard request.name != ".", request.name != ".." else { return try await lookupDot(request) }
        return try await lookedUp(request).entry.target.attributes
    }

    /// A lookup of a name that is not "." or "..": its directory and entry. One statement
    /// (PostgreSQL: one round trip, no transaction); the checks run in the order the
    /// transaction's steps had them: the directory, search permission, the name.
    func lookedUp(_ request: NameRequest) async throws -> (directory: InodeRecord, entry: (id: Int64, target: InodeRecord)) {
        guard let row = try await engine.rows(StoreQuery.entryWithInodes, [request.name, request.parent]).first else {
            throw FileSystemError.notFound("no inode \(request.parent)")
        }
        let found = try DirectoryEntryLookup(row: row)
        let directory = try found.directory.requireDirectory()
        try request.caller.require(.execute, on: directory)
        if request.name.count > MetaLimits.maximumNameLength {
            throw FileSystemError.nameTooLong()
        }
        return (directory, try found.requireEntry(named: request.name))
    }

    /// "." and "..": the directory itself or its parent.
    private func lookupDot(_ request: NameRequest) async throws -> InodeAttributes {
        try await engine.read { db in
            let parent = try db.directory(request.parent)
            try request.caller.require(.execute, on: parent)
            return request.name == "." ? parent.attributes : try db.inode(parent.parent ?? parent.id).attributes
        }
    }

    public func attributes(of inode: UInt64) async throws -> InodeAttributes {
        guard let row = try await engine.rows(StoreQuery.inode, [inode]).first else {
            throw FileSystemError.notFound("no inode \(inode)")
        }
        return try InodeRecord(row: row).attributes
    }

    /// Creates the inode and names it. With `request.openSession` a regular file is also opened
    /// for that session in the same transaction (`CreateReply.open`): the hold is taken before
    /// the name commits, so no other client can unlink and free the file in between, and it is
    /// given back if the create does not commit. A retry answered from the operation log holds
    /// it then (the first attempt's hold may have gone with a server that died).
    public func create(_ request: CreateRequest) async throws -> CreateReply {
        guard request.kind != .directory, request.kind != .symlink else {
            throw FileSystemError.invalid("create makes files, fifos, sockets and devices; use makeDirectory or makeSymbolicLink")
        }
        let now = nowNanoseconds()
        let hold = CreateHold(session: request.openSession)
        do {
            let reply = try await creating(request, now: now, hold: hold)
            if let session = request.openSession, reply.open != nil, hold.inode == nil {
                openFiles.hold(reply.attributes.inode, session: session)
            }
            return reply
        } catch {
            if let session = request.openSession, let inode = hold.inode { openFiles.release(inode, session: session) }
            throw error
        }
    }

    private func creating(_ request: CreateRequest, now: Int64, hold: CreateHold) async throws -> CreateReply {
        let openFiles = openFiles
        /// The open state of `record` for `CreateReply.open`, held for the session, or nil when
        /// no open was asked for or the file is not a placed regular file. `known` is its
        /// layout when the caller has it already (a new file's), else it is read.
        @Sendable func opened(
            _ record: InodeRecord, inlineBytes: [UInt8]?, layout known: FileLayout?, in db: any SQLTransaction
        ) throws -> OpenFileReply? {
            guard let session = hold.session, record.kind == .regular, record.groupID != nil else { return nil }
            let layout: FileLayout
            if let known {
                layout = known
            } else {
                db.prefetchLayout(of: record)
                layout = try db.layout(of: record)
            }
            let inline = record.isInline ? try inlineBytes ?? db.inlineBytes(of: record.id) : nil
            let headroom = try self.headroom(of: record.id, db)
            openFiles.hold(record.id, session: session)
            hold.inode = record.id
            return OpenFileReply(attributes: record.attributes, layout: layout, inlineBytes: inline, quotaHeadroom: headroom)
        }
        return try await committer.write { db in
            // With a number reserved ahead (PostgreSQL), the new file's volume, group, nodes
            // and map epoch are asked with the directory and read before the first write
            // (which drops prefetched answers): the create waits for its reads once and for its
            // commit once. Without one, the insert numbers the inode and the group follows it.
            let opening = hold.session != nil
            let number = try db.reserveInodeNumber()
            if request.kind == .regular {
                db.prefetchPlacement(forNewFile: number, in: request.parent)
                if opening, number != nil { db.prefetchNodesAndMapEpoch() }
            }
            let found = try db.directoryEntry(in: request.parent, named: request.name)
            var parent = try found.directory.requireDirectory()
            try NameRule.validate(request.name)
            if found.entry != nil {
                try request.caller.require(.execute, on: parent)
                guard !request.exclusive else { throw FileSystemError.exists("\"\(request.name)\" exists") }
                let record = try found.requireEntry(named: request.name).target
                guard !record.isDirectory else { throw FileSystemError.isDirectory("\"\(request.name)\" is a directory") }
                return CreateReply(attributes: record.attributes, created: false, isInline: record.isInline,
                                   volumeID: record.volumeID ?? 0, groupID: record.groupID ?? 0,
                                   parent: parent.attributes, open: try opened(record, inlineBytes: nil, layout: nil, in: db))
            }
            try request.caller.requireChange(of: parent)
            try self.charge(db, directory: parent.id, bytes: 0, files: 1)
            var record = InodeRecord(
                id: number ?? 0, kind: request.kind, permissions: request.permissions, uid: request.caller.uid,
                gid: Self.newGroupOwner(parent: parent, caller: request.caller), rdev: request.rdev, now: now,
                linkCount: 1, parent: request.kind == .regular ? parent.id : nil, volumeID: nil
            )
            var inlineData: [UInt8]? = nil
            var volume: VolumeSettings? = nil
            var group: PlacementGroup? = nil
            var placement: (endpoints: [UInt32: NodeEndpoint], mapEpoch: UInt64)? = nil
            if request.kind == .regular {
                if let number {
                    let found = try db.placement(forNewFile: number, inDirectory: parent.id)
                    volume = found?.volume
                    group = found?.group
                } else {
                    volume = try db.volumeForNewFile(inDirectory: parent.id)
                }
                record.volumeID = volume?.id
                record.groupID = group?.id
                if (volume?.inlineThreshold ?? Self.defaultInlineThreshold) > 0 { inlineData = [] }
                if number != nil, volume != nil, opening { placement = try db.nodeEndpointsAndMapEpoch() }
            }
            record = try db.insert(record, inlineData: inlineData, symlinkTarget: nil)
            if let volume, number == nil {
                // The group and, for an open, the nodes and map epoch are read together: one wait.
                if opening { db.prefetchNodesAndMapEpoch() }
                group = try db.placementGroup(forNewFile: record.id, volumeID: volume.id)
                record.groupID = group?.id
                if opening { placement = try db.nodeEndpointsAndMapEpoch() }
                try db.save(record)
            }
            var layout: FileLayout? = nil
            if let volume, let group, let placement {
                layout = try FileLayout(record: record, volume: volume, group: group,
                                        endpoints: placement.endpoints, mapEpoch: placement.mapEpoch)
            }
            try db.insertEntry(in: parent.id, named: request.name, inode: record.id)
            parent.touchContent(now)
            try db.save(parent)
            return CreateReply(attributes: record.attributes, created: true, isInline: record.isInline,
                               volumeID: record.volumeID ?? 0, groupID: record.groupID ?? 0,
                               parent: parent.attributes, open: try opened(record, inlineBytes: inlineData, layout: layout, in: db))
        }
    }

    public func makeDirectory(_ request: MakeDirectoryRequest) async throws -> InodeAttributes {
        let now = nowNanoseconds()
        return try await committer.write { db in
            var parent = try db.directory(request.parent)
            try NameRule.validate(request.name)
            try request.caller.requireChange(of: parent)
            guard try db.entry(in: parent.id, named: request.name) == nil else {
                throw FileSystemError.exists("\"\(request.name)\" exists")
            }
            guard parent.linkCount < Self.maximumLinkCount else { throw FileSystemError.tooManyLinks() }
            try self.charge(db, directory: parent.id, bytes: 0, files: 1)
            var permissions = request.permissions & 0o7777
            // A directory made in a setgid directory is setgid too, so the group keeps propagating.
            if parent.permissions & 0o2000 != 0 { permissions |= 0o2000 }
            var record = InodeRecord(
                id: 0, kind: .directory, permissions: permissions, uid: request.caller.uid,
                gid: Self.newGroupOwner(parent: parent, caller: request.caller), rdev: 0, now: now,
                linkCount: 2, parent: parent.id, volumeID: parent.volumeID
            )
            record = try db.insert(record, inlineData: nil, symlinkTarget: nil)
            try db.insertEntry(in: parent.id, named: request.name, inode: record.id)
            parent.linkCount += 1
            parent.touchContent(now)
            try db.save(parent)
            return record.attributes
        }
    }

    public func makeSymbolicLink(_ request: MakeSymbolicLinkRequest) async throws -> InodeAttributes {
        guard !request.target.isEmpty else { throw FileSystemError.notFound("empty symbolic link target") }
        guard request.target.count <= MetaLimits.maximumSymbolicLinkLength else {
            throw FileSystemError.nameTooLong("symbolic link target of \(request.target.count) bytes")
        }
        guard !request.target.contains(0) else { throw FileSystemError.invalid("a symbolic link target cannot contain NUL") }
        let now = nowNanoseconds()
        return try await committer.write { db in
            var parent = try db.directory(request.parent)
            try NameRule.validate(request.name)
            try request.caller.requireChange(of: parent)
            guard try db.entry(in: parent.id, named: request.name) == nil else {
                throw FileSystemError.exists("\"\(request.name)\" exists")
            }
            try self.charge(db, directory: parent.id, bytes: 0, files: 1)
            var record = InodeRecord(
                id: 0, kind: .symlink, permissions: 0o777, uid: request.caller.uid,
                gid: Self.newGroupOwner(parent: parent, caller: request.caller), rdev: 0, now: now,
                linkCount: 1, parent: nil, volumeID: nil
            )
            record.size = UInt64(request.target.count)
            record = try db.insert(record, inlineData: nil, symlinkTarget: request.target)
            try db.insertEntry(in: parent.id, named: request.name, inode: record.id)
            parent.touchContent(now)
            try db.save(parent)
            return record.attributes
        }
    }

    public func readSymbolicLink(_ inode: UInt64) async throws -> [UInt8] {
        guard let row = try await engine.rows(StoreQuery.symbolicLinkTarget, [inode]).first else {
            throw FileSystemError.notFound("no inode \(inode)")
        }
        // A BLOB since v3 (older TEXT values read as their UTF-8 bytes).
        guard (row[0] as UInt8) == InodeKind.symlink.rawValue, let target = row[1] as Data? else {
            throw FileSystemError.invalid("inode \(inode) is not a symbolic link")
        }
        return [UInt8](target)
    }

    public func link(_ request: LinkRequest) async throws -> InodeAttributes {
        let now = nowNanoseconds()
        return try await committer.write { db in
            var record = try db.inode(request.inode)
            guard !record.isDirectory else { throw FileSystemError.notPermitted("hard links to directories are not allowed") }
            // An orphan (unlinked, still open somewhere) cannot get a name again, as on Linux.
            guard record.linkCount > 0 else { throw FileSystemError.notFound("inode \(record.id) has no link left") }
            var parent = try db.directory(request.newParent)
            try NameRule.validate(request.newName)
            try request.caller.requireChange(of: parent)
            guard try db.entry(in: parent.id, named: request.newName) == nil else {
                throw FileSystemError.exists("\"\(request.newName)\" exists")
            }
            guard record.linkCount < Self.maximumLinkCount else { throw FileSystemError.tooManyLinks() }
            try self.charge(db, directory: parent.id, bytes: record.kind == .regular ? Int64(clamping: record.size) : 0, files: 1)
            try db.insertEntry(in: parent.id, named: request.newName, inode: record.id)
            record.linkCount += 1
            record.touchChange(now)
            try db.save(record)
            parent.touchContent(now)
            try db.save(parent)
            return record.attributes
        }
    }

    /// The group owner of a new inode: the directory's group when it is setgid (BSD
    /// semantics), the caller's otherwise.
    static func newGroupOwner(parent: InodeRecord, caller: MetaCaller) -> UInt32 {
        parent.permissions & 0o2000 != 0 ? parent.gid : caller.gid
    }
}

/// The inode a create held open for its session inside the transaction, so that the hold is
/// given back if the transaction does not commit. Set at most once, from the batch's thread,
/// and read after the write returned; the lock guards it.
private final class CreateHold: Sendable {
    let session: UInt64?
    private let held = Mutex<UInt64?>(nil)

    init(session: UInt64?) { self.session = session }

    var inode: UInt64? {
        get { held.withLock { $0 } }
        set { held.withLock { $0 = newValue } }
    }
}
