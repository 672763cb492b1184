/// File data: open files, reads, buffered writes, flush and truncation.
extension RadonFileSystemClient {
    public func setAttributes(of inode: UInt64, _ changes: AttributeChanges, handle: FileHandle?, context: RequestContext) async throws -> InodeAttributes {
        if let newSize = changes.size {
            // ftruncate: write access was checked when the descriptor was opened, not now.
            let writable = try handle.map { try handleEntry($0).flags.write } ?? false
            try await resize(inode, to: newSize, context: context, throughWritableHandle: writable)
        }
        if changes.modificationTime != nil {
            // An explicit mtime must outlive writes still buffered: publish them (which stamps
            // mtime = now) before the set, so close has nothing left to stamp over it.
            try await openFile(inode)?.flush()
        }
        var remaining = changes
        remaining.size = nil
        let attributes: InodeAttributes
        if remaining == AttributeChanges(), changes.size != nil {
            attributes = try await service { try await meta().attributes(of: inode) }
        } else {
            attributes = try await service { try await meta().setAttributes(of: inode, remaining, caller: context.caller) }
        }
        state.withLock { $0.lookahead.forget(inode: inode) }
        return await withLocalSize(remember(attributes))
    }

    /// Truncates or extends a file: what it holds past the new end is dropped from the storage
    /// nodes (and the tail of a partial last block zeroed) before the service learns the size, so
    /// a later extension reads zeros, never old bytes. The service hears of every resize, even
    /// to the size the file has: truncate, ftruncate and O_TRUNC set mtime and ctime anyway.
    func resize(_ inode: UInt64, to newSize: UInt64, context: RequestContext, throughWritableHandle: Bool = false) async throws {
        let open = openFile(inode)
        try await open?.flush()
        var layout = try await service { try await meta().fileLayout(of: inode) }
        if layout.isInline, newSize > UInt64(layout.volume.inlineThreshold) {
            // The service cannot hold the bytes past its threshold and only we write fragments:
            // move them to block 0 (as a growing write does), durably, then set the size.
            let file: OpenFile
            if let open { file = open } else { file = try await makeOpenFile(layout: layout) }
            try await file.moveOutOfInodeDurably()
            layout = try await service { try await meta().fileLayout(of: inode) }
        }
        var borrowedToken: OpenFile?
        if !layout.isInline, layout.size != newSize || open != nil {
            // Truncation rewrites the new last block and drops slots: like any block write of the
            // file, only under its data token.
            let holder: OpenFile
            if let open { holder = open } else {
                holder = try await makeOpenFile(layout: layout)
                borrowedToken = holder
            }
            try await holder.ensureDataToken()
            let geometry = BlockGeometry(blockSize: Int(layout.volume.blockSize))
            let keptBlocks = geometry.blockCount(forFileSize: min(newSize, layout.size))
            let tail = Int(newSize % UInt64(geometry.blockSize))
            if newSize < layout.size, tail != 0 {
                // The block that becomes the last one keeps only its first `tail` bytes.
                let index = geometry.blockIndex(containing: newSize)
                var block = try await store.readBlock(layout: layout, index: index)
                if block.version != 0 {
                    block.bytes.replaceSubrange(tail..<block.bytes.count, with: repeatElement(0, count: block.bytes.count - tail))
                    try await store.writeBlock(layout: layout, index: index, bytes: block.bytes, effectiveLength: tail, after: block.newestVersionSeen)
                }
            }
            try await store.truncate(layout: layout, keepingBlocks: keptBlocks)
            cache.removeAll(inode: inode, from: keptBlocks == 0 ? 0 : keptBlocks - 1)
        }
        let attributes: InodeAttributes
        do {
            attributes = try await service {
                try await meta().setAttributes(
                    of: inode, AttributeChanges(size: newSize), caller: context.caller, throughWritableHandle: throughWritableHandle)
            }
        } catch {
            await borrowedToken?.releaseDataToken()
            throw error
        }
        await borrowedToken?.releaseDataToken()
        remember(attributes)
        if let open {
            let fresh = try await service { try await meta().fileLayout(of: inode) }
            let inline = fresh.isInline ? try await service { try await metaService.readInline(inode) } : nil
            await open.reset(to: fresh, inlineBytes: inline)
        }
    }

    /// Creates and opens in one round trip: the service opens the file for this client's
    /// session in the create's own transaction, and answers with the directory's new attributes
    /// too, so the kernel's look at the directory that follows is answered from the cache.
    public func create(parent: UInt64, name: FileName, permissions: UInt32, flags: OpenFlags, exclusive: Bool, context: RequestContext) async throws -> CreatedFile {
        let (holdSession, reply) = try await service {
            try await withSession { session in
                (session, try await meta().create(
                    parent: parent, name: name, kind: .regular, permissions: permissions, rdev: 0, exclusive: exclusive,
                    caller: context.caller, openSession: session))
            }
        }
        forgetName(name, in: parent)
        if let directory = reply.parent { remember(directory) } else { forgetAttributes(parent) }
        remember(reply.attributes)
        let truncate = !reply.created && flags.truncate
        let (attributes, handle) = if let open = reply.open {
            try await finishOpen(reply.attributes.inode, open, holdSession: holdSession, flags: flags, truncate: truncate, context: context)
        } else {
            try await openHeld(reply.attributes.inode, flags: flags, truncate: truncate, context: context, checkAccess: !reply.created)
        }
        return CreatedFile(attributes: attributes, handle: handle, isNew: reply.created)
    }

    public func open(_ inode: UInt64, flags: OpenFlags, context: RequestContext) async throws -> FileHandle {
        try await openHeld(inode, flags: flags, truncate: flags.truncate && flags.write, context: context).1
    }

    /// Opens `inode` under a hold the service counts for this client's session (so another
    /// client's unlink keeps the file while it is open here), with close-to-open consistency:
    /// the attributes come from the service, never the cache, and an open file whose cached
    /// blocks predate them drops them.
    /// `checkAccess`: the service checks the open against the file's permissions (where an
    /// export squashes the caller); not for a file this open just created, which POSIX opens
    /// whatever its mode.
    func openHeld(
        _ inode: UInt64, flags: OpenFlags, truncate: Bool, context: RequestContext, checkAccess: Bool = true
    ) async throws -> (InodeAttributes, FileHandle) {
        let (holdSession, reply) = try await service {
            try await withSession { session in
                let opener = checkAccess ? SessionInodeRequest.Opener(caller: context.caller, read: flags.read, write: flags.write) : nil
                return (session, try await meta().openFile(session: session, inode: inode, opener: opener))
            }
        }
        return try await finishOpen(inode, reply, holdSession: holdSession, flags: flags, truncate: truncate, context: context)
    }

    /// The rest of an open once the service holds `inode` for `holdSession` and gave its open
    /// state: the handle, on the shared `OpenFile`; the hold is dropped again if this fails.
    func finishOpen(
        _ inode: UInt64, _ reply: OpenFileReply, holdSession: UInt64, flags: OpenFlags, truncate: Bool, context: RequestContext
    ) async throws -> (InodeAttributes, FileHandle) {
        do {
            var attributes = remember(reply.attributes)
            guard attributes.kind == .regular else {
                if attributes.kind == .directory { throw FileSystemError.isDirectory() }
                throw FileSystemError.invalid("inode \(inode) is a \(attributes.kind), not a regular file")
            }
            var layout = reply.layout
            if truncate {
                attributes = try await setAttributes(of: inode, AttributeChanges(size: 0), handle: nil, context: context)
                layout = nil
            }
            let handle = try await openHandle(inode, flags: flags, holdSession: holdSession, layout: layout,
                                              inlineBytes: layout?.isInline == true ? reply.inlineBytes : nil)
            try await openFile(inode)?.revalidate(with: attributes)
            if flags.write { await openFile(inode)?.setQuotaHeadroom(reply.quotaHeadroom, from: attributes.size) }
            return (attributes, handle)
        } catch {
            dropHold(on: inode, session: holdSession)
            throw error
        }
    }

    /// A new `OpenFile` on `layout` holding its inline bytes, not yet shared with any handle.
    func makeOpenFile(layout: FileLayout, inlineBytes known: [UInt8]? = nil) async throws -> OpenFile {
        // Inline files too: a file created inline moves to blocks once it grows past the threshold.
        await learnPaths(for: layout)
        var inline = known
        if layout.isInline, inline == nil { inline = try await service { try await metaService.readInline(layout.inode) } }
        return OpenFile(layout: layout, inlineBytes: inline, store: store, cache: cache, writeBudget: writeBudget, metadata: fileMetadata, logger: logger)
    }

    /// What open files ask of the service: `metaService`, with data tokens under this client's
    /// session.
    var fileMetadata: SessionFileMetadata {
        SessionFileMetadata(meta: metaService, session: session) { [weak self] in
            guard let self else { throw FileSystemError.io("the client was closed") }
            return try await self.sessionID()
        }
    }

    /// A new handle on the shared `OpenFile` of `inode` (made on first open).
    ///
    /// The table entry and its handle count change together under the state mutex, so a last
    /// release racing this open either sees the new handle (and keeps the file) or has already
    /// taken the file out of the table (and this open starts again with a fresh one): a handle
    /// never ends up on a file the table no longer holds, which would split one inode's writes
    /// and reads over two `OpenFile`s.
    func openHandle(_ inode: UInt64, flags: OpenFlags, holdSession: UInt64, layout known: FileLayout?, inlineBytes knownInline: [UInt8]?) async throws -> FileHandle {
        var known = known
        while true {
            var candidate = openFile(inode)
            let isFresh = candidate == nil
            if isFresh {
                if let fresh = known {
                    known = nil  // a second pass (the file was released meanwhile) asks again
                    candidate = try await makeOpenFile(layout: fresh, inlineBytes: knownInline)
                } else {
                    candidate = try await makeOpenFile(layout: try await service { try await meta().fileLayout(of: inode) })
                }
            }
            guard let candidate else { throw FileSystemError.io("inode \(inode) could not be opened") }
            let handle: FileHandle? = state.withLock { state in
                let file: OpenFile
                if let existing = state.openFiles[inode] {
                    file = existing  // whichever open got in first
                } else if isFresh {
                    file = candidate
                    state.openFiles[inode] = candidate
                } else {
                    return nil  // released since it was looked up: start again
                }
                state.openHandleCounts[inode, default: 0] += 1
                let handle = FileHandle(rawValue: state.nextHandle)
                state.nextHandle += 1
                state.handles[handle.rawValue] = Handle(file: file, flags: flags, holdSession: holdSession)
                return handle
            }
            if let handle { return handle }
        }
    }

    func handleEntry(_ handle: FileHandle) throws -> Handle {
        guard let entry = state.withLock({ $0.handles[handle.rawValue] }) else {
            throw FileSystemError.badHandle("no open file with handle \(handle.rawValue)")
        }
        return entry
    }

    public func read(_ handle: FileHandle, offset: UInt64, count: Int) async throws -> [UInt8] {
        let entry = try handleEntry(handle)
        return try await entry.file.read(at: offset, count: count)
    }

    public func write(_ handle: FileHandle, offset: UInt64, bytes: [UInt8]) async throws -> Int {
        let entry = try handleEntry(handle)
        guard entry.flags.write else { throw FileSystemError.badHandle("handle \(handle.rawValue) is not open for writing") }
        let written = try await entry.file.write(bytes, at: offset, appending: entry.flags.append)
        forgetAttributes(entry.file.inode)
        return written
    }

    public func flush(_ handle: FileHandle) async throws {
        let entry = try handleEntry(handle)
        try await entry.file.flush()
        forgetAttributes(entry.file.inode)
    }

    public func fsync(_ handle: FileHandle, dataOnly: Bool) async throws {
        try await flush(handle)
    }

    public func release(_ handle: FileHandle) async throws {
        guard let entry = state.withLock({ $0.handles.removeValue(forKey: handle.rawValue) }) else { return }
        let file = entry.file
        var failure: (any Error)?
        do { try await file.flush() } catch { failure = error }
        // The count drops only after the flush: an open meanwhile finds the file (dirty bytes
        // and all) still in the table and keeps it there.
        let wasLast = state.withLock { state -> Bool in
            let remaining = (state.openHandleCounts[file.inode] ?? 1) - 1
            guard remaining <= 0 else {
                state.openHandleCounts[file.inode] = remaining
                return false
            }
            state.openHandleCounts[file.inode] = nil
            if state.openFiles[file.inode] === file { state.openFiles[file.inode] = nil }
            return true
        }
        if wasLast {
            await file.dropReadAhead()
            await file.releaseDataToken(evenUnpublished: true)
        }
        dropHold(on: file.inode, session: entry.holdSession)
        forgetAttributes(file.inode)
        if let failure { throw FileSystemError(describing: failure) }
    }

    public func allocate(_ handle: FileHandle, offset: UInt64, length: UInt64, mode: Int32) async throws {
        let entry = try handleEntry(handle)
        // Mode 0 reserves space and extends the size; blocks are allocated on write, so only
        // the size changes. Punching holes and the other modes are not supported yet.
        guard mode == 0 else { throw FileSystemError.unsupported("fallocate mode \(mode)") }
        let end = offset + length
        let current = try await attributes(of: entry.file.inode)
        if end > current.size {
            _ = try await setAttributes(of: entry.file.inode, AttributeChanges(size: end), handle: handle, context: .root)
        }
    }
}
