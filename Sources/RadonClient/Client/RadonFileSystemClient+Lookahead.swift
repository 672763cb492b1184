import Glibc
import RadonWire

/// Lookups, answered from a lookahead window when the directory is being scanned (see
/// `DirectoryLookahead`), else by the metadata service.
extension RadonFileSystemClient {
    public func lookupEntry(parent: UInt64, name: FileName, context: RequestContext) async throws -> LookedUpEntry {
        let caller = context.caller
        let now = ContinuousClock.now
        let plan = state.withLock { $0.lookahead.plan(parent: parent, name: name, caller: caller, now: now) }
        switch plan {
        case let .answered(attributes, askedAt, trustedFor):
            return LookedUpEntry(attributes: await withLocalSize(fresher(attributes, askedAt: askedAt)), trustedFor: trustedFor)
        case .ask(following: 0, _):
            return LookedUpEntry(attributes: try await lookupAfresh(parent: parent, name: name, caller: caller))
        case let .ask(following, generation):
            let reply: LookaheadReply
            do {
                reply = try await service { try await meta().lookup(parent: parent, name: name, caller: caller, following: following) }
            } catch let error as FileSystemError where error.errno == EACCES || error.errno == EINVAL {
                // A server older than lookahead refuses the request (EACCES from its role
                // table, EINVAL for an unknown opcode). If the plain lookup then works, the
                // refusal was the server's, not the caller's: stop asking it.
                let attributes = try await lookupAfresh(parent: parent, name: name, caller: caller)
                state.withLock { $0.lookahead.isUnsupported = true }
                logger.notice("the metadata service does not answer lookahead; plain lookups from now on")
                return LookedUpEntry(attributes: attributes)
            }
            state.withLock {
                $0.lookahead.keep(reply.following, after: DirectoryEntry(name: name, attributes: reply.attributes, cookie: 0),
                                  in: parent, size: following, caller: caller, askedAt: now, generation: generation)
            }
            return LookedUpEntry(attributes: await withLocalSize(remember(reply.attributes)))
        }
    }

    private func lookupAfresh(parent: UInt64, name: FileName, caller: MetaCaller) async throws -> InodeAttributes {
        let attributes = try await service { try await meta().lookup(parent: parent, name: name, caller: caller) }
        return await withLocalSize(remember(attributes))
    }

    /// The attribute cache's copy of the inode when it is newer than a window's (an open,
    /// a lock or a getattr since), else the window's.
    private func fresher(_ attributes: InodeAttributes, askedAt: ContinuousClock.Instant) -> InodeAttributes {
        state.withLock { state in
            guard let cached = state.attributes[attributes.inode], cached.expiry - attributeLifetime > askedAt else { return attributes }
            return cached.attributes
        }
    }
}
