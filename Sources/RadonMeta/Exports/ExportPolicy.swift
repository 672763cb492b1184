import RadonWire

/// The export one client's request is judged by, with what the service knows of its subtree.
///
/// The service sets `current` around each request of a client whose export restricts
/// anything (`ExportRule.isUnrestricted` is false); `MetaService.answer` admits the decoded
/// request through it and confines the reply. What it guarantees:
/// - every inode a request names lies within the export's subtree (else EACCES, or ENOENT
///   when the inode is gone), so no guessed inode number reaches outside;
/// - the caller is squashed and held to the allowed uids before any permission check;
/// - ".." of the export's root is the root itself, in lookups (with lookahead or without)
///   and listings alike.
struct ExportPolicy: Sendable {
    let rule: ExportRule
    let membership: SubtreeMembership
    let store: any MetadataStore

    @TaskLocal static var current: ExportPolicy?

    private var root: UInt64 { rule.root }
    private var isWholeTree: Bool { root == SQLMetadataStore.rootInode }

    /// `request` as the export lets it run: its caller squashed, its inodes checked.
    func admit<Request>(_ request: Request) async throws -> Request {
        guard var scoped = request as? any ExportScoped else {
            if request is any NamesNoInode { return request }
            throw FileSystemError.permissionDenied("export '\(rule.name)' does not allow \(Request.self)")
        }
        if let caller = scoped.actingCaller { scoped.actingCaller = try rule.acting(as: caller) }
        if !isWholeTree {
            for inode in scoped.namedInodes { try await requireWithin(inode) }
        }
        if var lookup = scoped as? any NamesEntry, lookup.parent == root, lookup.name == ".." {
            lookup.name = "."
            scoped = lookup
        }
        guard let admitted = scoped as? Request else { throw WireError(.internalError, "export admission changed \(Request.self)") }
        return admitted
    }

    /// `reply` as the client may see it: the inodes it reveals are known members from now
    /// on, and a listing of the root shows the root as its own "..".
    func confine<Reply, Request>(_ reply: Reply, answering request: Request) async throws -> Reply {
        guard !isWholeTree else { return reply }
        switch reply {
        case let attributes as InodeAttributes:
            membership.insert([attributes.inode], under: root)
        case let created as CreateReply:
            membership.insert([created.attributes.inode], under: root)
        case let lookahead as LookaheadReply:
            // The following entries are the looked-up directory's own: members as well.
            membership.insert([lookahead.attributes.inode] + lookahead.following.map(\.attributes.inode), under: root)
        case var listing as DirectoryListing:
            membership.insert(listing.entries.lazy.filter { $0.name != ".." }.map(\.attributes.inode), under: root)
            let listed = request as? ReadDirectoryRequest
            if listed?.inode == root, let dotDot = listing.entries.firstIndex(where: { $0.name == ".." }) {
                // The listing's "." is the root when it came with ".." (cookie 0); else ask.
                if let dot = listing.entries.first(where: { $0.name == "." })?.attributes {
                    listing.entries[dotDot].attributes = dot
                } else {
                    listing.entries[dotDot].attributes = try await store.attributes(of: root)
                }
                if let confined = listing as? Reply { return confined }
            }
        default:
            break
        }
        return reply
    }

    /// EACCES unless `inode` lies within the subtree; ENOENT when it does not exist at all
    /// (a client's cached inode that another client removed must still read as gone).
    private func requireWithin(_ inode: UInt64) async throws {
        if inode == root || membership.contains(inode, under: root) { return }
        if try await store.isWithin(inode, subtree: root) {
            membership.insert([inode], under: root)
            return
        }
        _ = try await store.attributes(of: inode)
        throw FileSystemError.permissionDenied("inode \(inode) is outside export '\(rule.name)' (\(rule.path))")
    }
}
