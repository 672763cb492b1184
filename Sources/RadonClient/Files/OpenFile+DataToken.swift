/// The file's data token: blocks of this file leave this client only while it holds the token,
/// so no other client sends blocks of the file meanwhile, and a read-modify-write never lays
/// this client's bytes over a base older than what another client acknowledged.
///
/// The token is taken before the first block is sent (or a base read for one), kept across
/// flushes while the file stays open, and handed back at the last close, when another client
/// waits for it (the session renewal says so), or never (a lapsed session loses it at the
/// service). Its grant carries the file's generation: when another client changed the file
/// since this one last saw it, what this client knew of the old contents is dropped
/// (`rebase`): cached blocks, versions, read-ahead, and the old contents under unsent writes,
/// which are then read again.
extension OpenFile {
    /// Holds the token before a block leaves (acquiring it, and rebasing, if needed).
    func ensureDataToken() async throws {
        while true {
            if let held = tokenSession, await metadata.isValid(session: held) { return }
            if let pending = tokenRequest {
                try await pending.value
                continue
            }
            // A release under way must reach the service before an acquire, or it would free
            // the token just granted again to this same session.
            if let releasing = tokenRelease {
                await releasing.value
                continue
            }
            tokenSession = nil
            let metadata = self.metadata
            let inode = self.inode
            let request = Task {
                let (session, attributes) = try await metadata.acquireDataToken(inode)
                try await self.tookDataToken(session: session, attributes: attributes)
            }
            tokenRequest = request
            defer { tokenRequest = nil }
            try await request.value
            return
        }
    }

    private func tookDataToken(session: UInt64, attributes: InodeAttributes) async throws {
        if knownGeneration != attributes.generation {
            do {
                try await rebase(on: attributes)
            } catch {
                // Not usable without the rebase: give it back rather than hold it unused.
                await metadata.releaseDataToken(inode, session: session)
                throw error
            }
        }
        tokenSession = session
    }

    /// Another client changed the file: forget what was cached of it, take its new size and
    /// layout, and have every unsent block read its old contents again before it leaves (from
    /// the inode if the file is still inline at the service).
    func rebase(on attributes: InodeAttributes) async throws {
        let fresh = try await metadata.fileLayout(of: inode)
        let freshInline = fresh.isInline ? try await metadata.readInline(inode) : nil
        cache.removeAll(inode: inode)
        cache.validate(inode: inode, generation: attributes.generation)
        knownVersions = [:]
        dropReadAhead()
        layout = fresh
        storedSize = fresh.size
        size = max(fresh.size, endOfUnsentWrites)
        publishedSize = nil
        serviceThinksInline = fresh.isInline
        for index in Array(dirtyBlocks.keys) {
            guard var block = takeDirtyBlock(index) else { continue }
            block.forgetBase()
            if let freshInline {
                let start = Int(geometry.startOfBlock(index))
                let base = start < freshInline.count ? Array(freshInline[start..<min(freshInline.count, start + geometry.blockSize)]) : []
                block.merge(base: base)
            }
            setDirtyBlock(block, at: index)
        }
        knownGeneration = attributes.generation
    }

    /// Another client changed this small file while this one holds unflushed writes to it: its
    /// bytes become the service's, with this client's unflushed writes laid over them.
    func reloadInlineKeepingWrites() async throws {
        let fresh = try await metadata.readInline(inode)
        guard isInline else { return }
        var merged = fresh
        if merged.count < inlineBytes.count { merged += [UInt8](repeating: 0, count: inlineBytes.count - merged.count) }
        for range in inlineWritten.ranges where range.upperBound <= inlineBytes.count {
            merged.replaceSubrange(range, with: inlineBytes[range])
        }
        inlineBytes = merged
        size = max(size, UInt64(merged.count))
    }

    /// Where this client's unsent writes end (0 if none).
    var endOfUnsentWrites: UInt64 {
        dirtyBlocks.reduce(0) { end, entry in
            max(end, geometry.startOfBlock(entry.key) + UInt64(entry.value.written.ranges.last?.upperBound ?? 0))
        }
    }

    /// Flushes, then hands the token back (another client waits for it); writes arriving
    /// meanwhile take it again later, after that client.
    func handBackDataToken() async {
        do {
            try await flush()
        } catch {
            if deferredError == nil { deferredError = FileSystemError(describing: error) }
        }
        await releaseDataToken()
    }

    /// Hands the token back if nothing sent under it is unpublished and no send is under way; or,
    /// at the last close (`evenUnpublished`), whatever its flush achieved: a failed flush must
    /// not keep other clients' writers waiting until this client's session ends.
    func releaseDataToken(evenUnpublished: Bool = false) async {
        guard let held = tokenSession, tokenRequest == nil, activeSends == 0, inFlight.isEmpty,
              evenUnpublished || !sentSincePublish else { return }
        tokenSession = nil
        let (metadata, inode) = (self.metadata, self.inode)
        let release = Task { await metadata.releaseDataToken(inode, session: held) }
        tokenRelease = release
        await release.value
        tokenRelease = nil
    }

    /// This client changed the file and the service answered with `attributes`: the cached
    /// blocks stay (they hold the change) only if nothing else changed the file in between
    /// (the generation moved by exactly `changes`), else they go, and an inline file reloads its bytes.
    func noteOwnChange(_ attributes: InodeAttributes, changes: UInt64 = 1) async {
        let previous = knownGeneration
        knownGeneration = attributes.generation
        publishedSize = attributes.size
        guard let previous, attributes.generation == previous &+ changes else {
            cache.advance(inode: inode, from: nil, to: attributes.generation)
            knownVersions = [:]
            dropReadAhead()
            if isInline { try? await reloadInlineKeepingWrites() }
            return
        }
        cache.advance(inode: inode, from: previous, to: attributes.generation)
    }
}
