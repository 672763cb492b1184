import NIOCore

/// Who may call what: the role table of every opcode of the metadata service and the storage
/// daemon, kept beside the opcodes so a new call cannot be added without deciding it.
///
/// The rules, from issue 12's threat model:
/// - clients (mounts, file verbs) use the namespace, file data and their sessions, and read
///   the cluster's state; they cannot register nodes, change the map or create volumes;
/// - storage daemons register and heartbeat, run healing jobs and copy fragments to each other,
///   and cannot change the namespace;
/// - only the metadata service or an operator orders a storage daemon to delete a file's
///   fragments;
/// - an operator (`admin`) may do everything.
extension MetaOpcode {
    /// The roles allowed to make this request.
    public var allowedRoles: WireRoles {
        switch self {
        case .lookup, .lookupAhead, .getAttributes, .setAttributes, .create, .makeDirectory, .makeSymbolicLink, .readSymbolicLink,
             .remove, .removeDirectory, .rename, .link, .readDirectory, .statistics, .getExtendedAttribute,
             .setExtendedAttribute, .listExtendedAttributes, .removeExtendedAttribute,
             .fileLayout, .updateSizeAfterWrite, .readInline, .writeInline, .clearInline, .confirmDeletions,
             .openSession, .renewSession, .closeSession, .setLock, .testLock, .releaseLocks, .cancelLockWait,
             .acquireDataToken, .releaseDataToken, .openFile, .closeFile, .exportRoot, .quotaHeadroom:
            [.client, .admin]
        case .pendingDeletions:
            [.meta, .admin]
        case .registerNode, .heartbeat:
            [.storage, .admin]
        case .nodes, .status, .volumes, .groupMap:
            .all
        case .createVolume, .replaceMember, .addExport, .exports, .removeExport, .fileInventory, .relayoutBegin, .relayoutCommit,
             .trashList, .trashRestore, .trashPurge, .trashSettings, .quotaSet, .quotaList:
            .admin
        case .identified:
            // Judged by the request inside (`MetaOpcode.access`); the envelope alone is nothing.
            []
        }
    }

    /// The metadata service's policy: the table above, an `identified` envelope judged by the
    /// request it carries, and nobody for an opcode the service does not know.
    public static let access = WireAccess { request in
        var opcode = request.opcode
        if opcode == MetaOpcode.identified.rawValue {
            var payload = request.payload
            guard let inner = try? IdentifiedRequest(from: &payload), inner.opcode != MetaOpcode.identified.rawValue else { return [] }
            opcode = inner.opcode
        }
        if let meta = MetaOpcode(rawValue: opcode) { return meta.allowedRoles }
        if let healing = MetaHealingOpcode(rawValue: opcode) { return healing.allowedRoles }
        return []
    }
}

extension MetaHealingOpcode {
    /// The roles allowed to make this request.
    public var allowedRoles: WireRoles {
        switch self {
        case .claimJob, .reportProgress: [.storage, .admin]
        case .start, .nodeCommand: .admin
        case .status: .all
        case .reportDamage: [.client, .storage, .admin]
        }
    }
}

extension StorageOpcode {
    /// The roles allowed to make this request.
    public var allowedRoles: WireRoles {
        switch self {
        case .writeFragments, .readFragments, .readPreviousFragments, .readFragmentRange, .syncFile:
            // Healers on storage daemons read from and write to their peers.
            [.client, .storage, .admin]
        case .dropPrevious, .truncate:
            [.client, .admin]
        case .deleteFile:
            [.meta, .admin]
        case .listFiles, .listGroups, .nodeStatus:
            [.meta, .storage, .admin]
        }
    }

    /// The storage daemon's policy: the table above, nobody for an unknown opcode; the daemon
    /// named `ownName` itself may delete (its sweep of groups the map moved away, judged on the
    /// map it read from a verified metadata server), no other storage daemon may; and a client
    /// certificate in `readOnlyClients` (its export is read-only) may read but not write.
    public static func access(ownName: String?, readOnlyClients: ReadOnlyClients = ReadOnlyClients()) -> WireAccess {
        WireAccess { request in
            guard let opcode = StorageOpcode(rawValue: request.opcode) else { return [] }
            if opcode == .deleteFile, let ownName, request.peer.name == ownName, request.peer.roles.contains(.storage) {
                return opcode.allowedRoles.union(.storage)
            }
            if opcode.writes, request.peer.roles == .client, readOnlyClients.contains(request.peer.name) { return [] }
            return opcode.allowedRoles
        }
    }

    /// Whether the request changes fragments (what a read-only client may not send).
    var writes: Bool {
        switch self {
        case .writeFragments, .dropPrevious, .truncate, .deleteFile: true
        // A sync changes no fragment: it makes what was written durable.
        case .readFragments, .readPreviousFragments, .readFragmentRange, .syncFile, .listFiles, .listGroups, .nodeStatus: false
        }
    }
}
