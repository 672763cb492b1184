import RadonWire

/// Exports: which export judges a request, the operator's export opcodes, and keeping
/// `SubtreeMembership` true as names go.
extension MetaService {
    /// The export `peer`'s requests are judged by; nil when nothing is restricted: operators,
    /// daemons and shared-key peers, and clients whose export is the whole file system,
    /// read-write, unsquashed. A client certificate without an export is refused outright, and
    /// a change asked of a read-only export is EROFS.
    func exportPolicy(for peer: WirePeer, opcode: MetaOpcode) async throws -> ExportPolicy? {
        guard peer.roles.isDisjoint(with: [.admin, .meta, .storage]) else { return nil }
        guard let rule = try await exportTable.rule(named: peer.name) else {
            throw FileSystemError.permissionDenied(
                "client '\(peer.name)' has no export; an operator adds one with: radonfs export add \(peer.name) PATH"
            )
        }
        if rule.readOnly, opcode.changesFileSystem {
            throw FileSystemError.readOnly("the export of '\(rule.name)' (\(rule.path)) is read-only")
        }
        return rule.isUnrestricted ? nil : ExportPolicy(rule: rule, membership: subtreeMembership, store: store)
    }

    func dispatchExport(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let store = self.store
        switch opcode {
        case .exportRoot:
            return await answer(request) { (_: WireEmpty) in
                guard let rule = ExportPolicy.current?.rule else {
                    return ExportGrant(root: try await store.attributes(of: SQLMetadataStore.rootInode), readOnly: false, path: "/")
                }
                return ExportGrant(root: try await store.attributes(of: rule.root), readOnly: rule.readOnly, path: rule.path)
            }
        case .addExport:
            return await answer(request) { (r: ExportRule) in
                var rule = r
                rule.root = try await directory(at: r.path)
                try await store.saveExport(rule)
                exportTable.invalidate()
                logger.notice("export saved", metadata: [
                    "client": "\(rule.name)", "path": "\(rule.path)", "root": "\(rule.root)", "read-only": "\(rule.readOnly)",
                    "squash": "\(rule.squash)",
                ])
                return rule
            }
        case .exports:
            return await answer(request) { (_: WireEmpty) in ExportListReply(try await store.exports()) }
        case .removeExport:
            return await answer(request) { (r: ExportNameRequest) in
                guard try await store.removeExport(named: r.name) else { throw WireError(.notFound, "no export for client '\(r.name)'") }
                exportTable.invalidate()
                logger.notice("export removed", metadata: ["client": "\(r.name)"])
                return WireEmpty()
            }
        default:
            return .failure(.badRequest, "not an export opcode: \(opcode)")
        }
    }

    /// The directory at absolute `path`, looked up as root from the file system's root.
    private func directory(at path: String) async throws -> UInt64 {
        guard isValidExportPath(path) else {
            throw WireError(.invalidArgument, "export path '\(path)' must be absolute, without '.' or '..' components")
        }
        var inode = SQLMetadataStore.rootInode
        for component in path.split(separator: "/") {
            let found = try await store.lookup(NameRequest(parent: inode, name: FileName(String(component)), caller: .root))
            guard found.kind == .directory else { throw FileSystemError.notDirectory("\(path): '\(component)' is not a directory") }
            inode = found.inode
        }
        return inode
    }

    private func isValidExportPath(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.split(separator: "/").contains { $0 == "." || $0 == ".." }
    }

    /// Runs an unlink or rmdir of `name` in `parent` and then forgets the inode it named, when
    /// any export shows a subtree (see `SubtreeMembership`'s invariant).
    func forgettingMember<Reply>(named name: FileName, in parent: UInt64, _ body: () async throws -> Reply) async throws -> Reply {
        guard (try? await exportTable.hasSubtrees()) == true else { return try await body() }
        let going = await inode(named: name, in: parent)
        let reply = try await body()
        if let going { subtreeMembership.forget([going.inode]) }
        return reply
    }

    /// Runs a rename and then forgets what may have left a subtree: the target it replaced,
    /// and, when it moved between directories, what moved (everything, if a directory did).
    func forgettingMembers<Reply>(movedBy rename: RenameRequest, _ body: () async throws -> Reply) async throws -> Reply {
        guard (try? await exportTable.hasSubtrees()) == true else { return try await body() }
        let moving = await inode(named: rename.name, in: rename.parent)
        let target = await inode(named: rename.newName, in: rename.newParent)
        let reply = try await body()
        let involved = [moving, target].compactMap { $0 }
        if rename.parent == rename.newParent {
            if rename.mode != .exchange, let target { subtreeMembership.forget([target.inode]) }
        } else if involved.contains(where: { $0.kind == .directory }) {
            subtreeMembership.forgetAll()
        } else {
            subtreeMembership.forget(involved.map(\.inode))
        }
        return reply
    }

    private func inode(named name: FileName, in parent: UInt64) async -> InodeAttributes? {
        try? await store.lookup(NameRequest(parent: parent, name: name, caller: .root))
    }
}
