import RadonWire

/// The trash's opcodes (operator only), and the maintenance pass that frees what outlived the
/// retention. A purge or an expiry wakes the deletion sweeper, as a removal does.
extension MetaService {
    func dispatchTrash(_ opcode: MetaOpcode, _ request: WireRequest) async -> WireResponse {
        let store = self.store
        switch opcode {
        case .trashList:
            return await answer(request) { (r: TrashListRequest) in
                TrashListReply(entries: try await store.trashList(after: r.after, limit: Int(r.limit)))
            }
        case .trashRestore:
            return await answer(request) { (r: TrashRestoreRequest) in
                let reply = try await store.restoreFromTrash(r)
                logger.notice("file restored from the trash", metadata: ["inode": "\(r.inode)", "path": "\(reply.path)"])
                return reply
            }
        case .trashPurge:
            return await answer(request) { (r: TrashPurgeRequest) in
                let reply = try await store.purgeTrash(r)
                if reply.files > 0 { deletions?.wake() }
                return reply
            }
        case .trashSettings:
            return await answer(request) { (r: TrashSettingsRequest) in
                let summary = try await store.trashSettings(r)
                if let seconds = r.retentionSeconds { logger.notice("trash retention set", metadata: ["seconds": "\(seconds)"]) }
                return summary
            }
        default:
            return .failure(.badRequest, "not a trash opcode: \(opcode)")
        }
    }

    /// Frees expired trash entries every `interval` until cancelled, a batch at a time.
    public func runTrashExpiry(every interval: Duration = .seconds(10)) async {
        while !Task.isCancelled {
            await expireTrashOnce()
            try? await Task.sleep(for: interval)
        }
    }

    /// One maintenance pass over the trash; returns how many entries it freed.
    @discardableResult
    public func expireTrashOnce() async -> UInt64 {
        var freed: UInt64 = 0
        do {
            while true {
                let batch = try await store.expireTrash(limit: 1024)
                freed += batch.files
                if batch.files < 1024 { break }
            }
        } catch {
            logger.warning("trash not expired", metadata: ["error": "\(error)"])
        }
        if freed > 0 {
            logger.info("expired files freed from the trash", metadata: ["files": "\(freed)"])
            deletions?.wake()
        }
        return freed
    }
}
