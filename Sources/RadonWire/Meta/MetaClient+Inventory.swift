extension MetaClient {
    /// One page of the file inventory: files with an inode above `after`.
    public func fileInventory(after: UInt64, limit: UInt32 = 10_000) async throws -> FileInventoryReply {
        try await call(.fileInventory, FileInventoryRequest(after: after, limit: limit))
    }

    /// The whole inventory, page after page, with the highest inode seen on any page.
    public func fileInventory() async throws -> (entries: [FileInventoryEntry], highestInode: UInt64) {
        var entries: [FileInventoryEntry] = []
        var highest: UInt64 = 0
        var after: UInt64 = 0
        while true {
            let page = try await fileInventory(after: after)
            entries += page.entries
            highest = max(highest, page.highestInode)
            guard let last = page.entries.last else { return (entries, highest) }
            after = last.inode
        }
    }
}
