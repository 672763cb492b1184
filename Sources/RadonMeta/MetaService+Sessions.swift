import RadonWire

/// Client sessions, data tokens and open-file holds, and the sweeps that end what lapsed
/// sessions held and free the files no session holds open any more.
extension MetaService {
    func dispatchSession(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let (sessions, tokens, holds, store) = (self.sessions, dataTokens, store.openFiles, self.store)
        switch opcode {
        case .openSession:
            return await answer(request) { (r: OpenSessionRequest) in
                let id = await sessions.open(clientName: r.clientName)
                logger.info("client session opened", metadata: ["session": "\(String(id, radix: 16))", "client": "\(r.clientName)"])
                return SessionLease(session: id, leaseMilliseconds: sessions.lease.wireMilliseconds)
            }
        case .renewSession:
            return await answer(request) { (r: SessionRequest) in
                try await sessions.renew(r.session)
                return SessionLease(session: r.session, leaseMilliseconds: sessions.lease.wireMilliseconds,
                                    wantedTokens: await tokens.wanted(from: r.session))
            }
        case .closeSession:
            return await answer(request) { (r: SessionRequest) in
                await sessions.close(r.session)
                return WireEmpty()
            }
        case .acquireDataToken:
            return await answer(request) { (r: AcquireDataTokenRequest) in
                try await sessions.requireLive(r.session)
                let wait = Duration.milliseconds(Int64(min(r.waitMilliseconds, Self.maximumTokenWaitMilliseconds)))
                guard await tokens.acquire(session: r.session, inode: r.inode, wait: wait) else {
                    try await sessions.requireLive(r.session)
                    return DataTokenGrant(attributes: nil)
                }
                do {
                    return DataTokenGrant(attributes: try await store.attributes(of: r.inode))
                } catch {
                    await tokens.release(session: r.session, inode: r.inode)
                    throw error
                }
            }
        case .releaseDataToken:
            return await answer(request) { (r: SessionInodeRequest) in
                await tokens.release(session: r.session, inode: r.inode)
                return WireEmpty()
            }
        case .openFile:
            return await answer(request) { (r: SessionInodeRequest) in
                try await sessions.requireLive(r.session)
                holds.hold(r.inode, session: r.session)
                do {
                    // The kernel checked the open already as the caller it knows; only an
                    // export that squashes makes the caller someone else.
                    if let opener = r.opener, let squash = ExportPolicy.current?.rule.squash, squash != .none {
                        let access: AccessMask = [opener.read ? .read : [], opener.write ? .write : []]
                        try opener.caller.require(access, on: try await store.attributes(of: r.inode))
                    }
                    return try await store.openState(of: r.inode)
                } catch {
                    holds.release(r.inode, session: r.session)
                    throw error
                }
            }
        case .closeFile:
            return await answer(request) { (r: SessionInodeRequest) in
                if holds.release(r.inode, session: r.session), holds.wasOrphaned(r.inode) { await reapOrphans([r.inode]) }
                return WireEmpty()
            }
        default:
            return .failure(.badRequest, "not a session opcode: \(opcode)")
        }
    }

    /// A removal's file whose fragments are to go: the service's own sweeper deletes them when
    /// it has one (the caller then gets nil and deletes nothing), else the caller does.
    func deleting(_ removed: RemovedFile?) -> RemovedFile? {
        guard removed != nil, let deletions else { return removed }
        deletions.wake()
        return nil
    }

    /// What a lapsed session held goes: its locks and data tokens pass to waiters, and files only it had
    /// open are freed if they lost their last name meanwhile.
    func sessionEnded(_ session: UInt64) async {
        await locks.endSession(session)
        await dataTokens.releaseAll(session: session)
        await reapOrphans(store.openFiles.releaseAll(session: session))
    }

    /// Frees those of `inodes` that are orphans (no name left) and open nowhere.
    func reapOrphans(_ inodes: [UInt64]) async {
        var freed = 0
        for inode in inodes where !store.openFiles.isOpen(inode) {
            do {
                if try await store.reapOrphan(inode) { freed += 1 }
            } catch {
                logger.warning("orphan not freed yet", metadata: ["inode": "\(inode)", "error": "\(error)"])
            }
        }
        if freed > 0 { deletions?.wake() }
    }

    /// Sweeps lapsed sessions every second, and orphans nobody holds (left by a crash of this
    /// service, or by clients that did not come back) once a whole lease has passed since the
    /// service started, so that clients had the time to assert their open files again.
    public func runSessionSweeps() async {
        await sessions.onExpiry { [weak self] session in
            self?.logger.notice("client session ended", metadata: ["session": "\(String(session, radix: 16))"])
            await self?.sessionEnded(session)
        }
        let orphansFrom = ContinuousClock.now + sessions.lease
        while !Task.isCancelled {
            await sessions.sweep()
            if ContinuousClock.now >= orphansFrom {
                do {
                    await reapOrphans(try await store.orphans(limit: 1024))
                } catch {
                    logger.error("orphan sweep failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// A blocked acquire is answered after this long at most (the client asks again), so no
    /// request waits on a holder forever.
    static let maximumTokenWaitMilliseconds: UInt32 = 10_000
}
