import Foundation

/// The client's session: kept alive in the background, replaced after a lapse (its open files
/// asserted again), and the way other clients' waits for a data token reach the writer.
extension RadonFileSystemClient {
    /// The name this client gives the service for its session (logs and status).
    static var clientName: String {
        "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The live session's id (opened on first use, renewed in the background from then on).
    public func sessionID() async throws -> UInt64 {
        keepSessionAlive()
        let (id, replaced) = try await service { try await session.id() }
        if replaced { await reassertHolds(under: id) }
        return id
    }

    /// Runs `body` with the session id; if the service says the session lapsed, once more with
    /// a new one.
    func withSession<T>(_ body: (UInt64) async throws -> T) async throws -> T {
        let id = try await sessionID()
        do {
            return try await body(id)
        } catch let error as WireError where error.status == .sessionExpired {
            await session.lapsed(id)
            return try await body(try await sessionID())
        }
    }

    /// Starts the renewals, once.
    func keepSessionAlive() {
        state.withLock { state in
            guard state.sessionKeeper == nil else { return }
            state.sessionKeeper = Task { [weak self] in
                while !Task.isCancelled {
                    guard let interval = await self?.session.renewalInterval else { return }
                    try? await Task.sleep(for: interval)
                    await self?.renewSession()
                }
            }
        }
    }

    /// One renewal: a replaced session gets every open handle asserted again; a file whose data
    /// token another client waits for is flushed, which hands the token back.
    func renewSession() async {
        do {
            guard let (lease, replaced) = try await session.renew() else { return }
            if replaced {
                logger.warning("session lapsed; a new one holds this client's open files", metadata: ["session": "\(String(lease.session, radix: 16))"])
                await reassertHolds(under: lease.session)
            }
            for inode in lease.wantedTokens {
                guard let file = openFile(inode) else { continue }
                Task { await file.handBackDataToken() }
            }
        } catch {
            logger.warning("session renewal failed", metadata: ["error": "\(error)"])
        }
    }

    /// Asserts open files and reclaims locks under `session`, which replaced a lapsed one.
    func reassertHolds(under session: UInt64) async {
        await reassertOpenFiles(under: session)
        await reclaimLocks(under: session)
    }

    /// Tells the service again about every handle this client has open (after the session it
    /// held them under lapsed or the service restarted), so their files are not freed.
    func reassertOpenFiles(under session: UInt64) async {
        let handles = state.withLock { state in state.handles.map { ($0.key, $0.value.file.inode) } }
        for (handle, inode) in handles {
            do {
                _ = try await meta().openFile(session: session, inode: inode)
                state.withLock { $0.handles[handle]?.holdSession = session }
            } catch {
                logger.warning("open file not asserted in the new session", metadata: ["inode": "\(inode)", "error": "\(error)"])
            }
        }
    }

    /// Ends one hold on `inode` (a handle closed), without waiting: the service frees the file
    /// if that was its last hold and it has no name left.
    func dropHold(on inode: UInt64, session: UInt64) {
        Task { [weak self] in
            do {
                try await self?.meta().closeFile(session: session, inode: inode)
            } catch {
                self?.logger.debug("closeFile not delivered; the session's lapse releases it", metadata: ["inode": "\(inode)", "error": "\(error)"])
            }
        }
    }
}
