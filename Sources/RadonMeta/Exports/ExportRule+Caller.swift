import RadonWire

extension ExportRule {
    /// Requests pass unchanged: the whole file system, read-write, no squash, any uid. A
    /// client with such an export costs the service nothing per request.
    var isUnrestricted: Bool {
        root == SQLMetadataStore.rootInode && !readOnly && squash == .none && allowedUIDs == nil
    }

    /// Who a request of `caller` acts as under this export: squashed, then held to
    /// `allowedUIDs` (EACCES outside it).
    func acting(as caller: MetaCaller) throws -> MetaCaller {
        var acting = caller
        switch squash {
        case .none:
            break
        case .root:
            if acting.uid == 0 { acting.uid = anonymousUID }
            if acting.gid == 0 { acting.gid = anonymousGID }
            acting.groups = acting.groups.map { $0 == 0 ? anonymousGID : $0 }
        case .all:
            acting = MetaCaller(uid: anonymousUID, gid: anonymousGID)
        }
        if let allowedUIDs, !allowedUIDs.contains(acting.uid) {
            throw FileSystemError.permissionDenied(
                "uid \(acting.uid) is outside the uids \(allowedUIDs.lowerBound)-\(allowedUIDs.upperBound) of export '\(name)'"
            )
        }
        return acting
    }
}

extension MetaOpcode {
    /// Whether the request changes the file system: what a read-only export refuses (EROFS).
    /// Locks and sessions are not changes; a data token is taken only to write.
    var changesFileSystem: Bool {
        switch self {
        case .setAttributes, .create, .makeDirectory, .makeSymbolicLink, .remove, .removeDirectory, .rename, .link,
             .setExtendedAttribute, .removeExtendedAttribute, .updateSizeAfterWrite, .writeInline, .clearInline,
             .confirmDeletions, .acquireDataToken, .createVolume, .replaceMember, .addExport, .removeExport,
             .registerNode, .heartbeat, .relayoutCommit, .trashRestore, .trashPurge, .trashSettings, .quotaSet:
            true
        case .lookup, .lookupAhead, .getAttributes, .readSymbolicLink, .readDirectory, .statistics, .getExtendedAttribute,
             .listExtendedAttributes, .exportRoot, .fileLayout, .readInline, .pendingDeletions, .openSession, .renewSession,
             .closeSession, .setLock, .testLock, .releaseLocks, .cancelLockWait, .releaseDataToken, .openFile, .closeFile,
             .nodes, .status, .volumes, .groupMap, .exports, .fileInventory, .identified, .relayoutBegin, .trashList, .quotaList, .quotaHeadroom:
            false
        }
    }
}
