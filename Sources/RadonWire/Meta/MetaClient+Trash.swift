extension MetaClient {
    /// One page of the trash: entries with an inode above `after`.
    public func trashList(after: UInt64, limit: UInt32 = 10_000) async throws -> [TrashEntry] {
        let reply: TrashListReply = try await call(.trashList, TrashListRequest(after: after, limit: limit))
        return reply.entries
    }

    /// The whole trash, page after page, in inode order.
    public func trashList() async throws -> [TrashEntry] {
        var entries: [TrashEntry] = []
        while true {
            let page = try await trashList(after: entries.last?.inode ?? 0)
            guard !page.isEmpty else { return entries }
            entries += page
        }
    }

    /// Names the trashed file `inode` again: where it was, or at `destination` (an absolute path).
    public func trashRestore(_ inode: UInt64, to destination: String? = nil) async throws -> TrashRestoreReply {
        try await call(.trashRestore, TrashRestoreRequest(inode: inode, destination: destination))
    }

    /// Frees `inodes` (or, with `all`, everything) from the trash now.
    public func trashPurge(_ inodes: [UInt64], all: Bool = false) async throws -> TrashPurgeReply {
        try await call(.trashPurge, TrashPurgeRequest(inodes: inodes, all: all))
    }

    /// The retention and what the trash holds; sets the retention first when given.
    public func trashSettings(settingRetention seconds: UInt64? = nil) async throws -> TrashSummary {
        try await call(.trashSettings, TrashSettingsRequest(retentionSeconds: seconds))
    }
}
