import RadonWire

extension SQLMetadataStore {
    /// The lookup as `lookup(_: NameRequest)` answers it, then (a second statement, outside
    /// any transaction) up to `following` entries after the name's row in listing order.
    /// Each entry is as current as a lookup of its own would have been at that moment: the
    /// client keeps them only as long as it keeps a lookup's answer.
    public func lookup(_ request: LookaheadRequest) async throws -> LookaheadReply {
        let lookup = request.lookup
        guard request.name != ".", request.name != "..", request.following > 0 else {
            return LookaheadReply(attributes: try await self.lookup(lookup), following: [])
        }
        let (directory, entry) = try await lookedUp(lookup)
        let attributes = entry.target.attributes
        // Search permission gives the name asked for; the names after it are a listing.
        guard (try? request.caller.require(.read, on: directory)) != nil else {
            return LookaheadReply(attributes: attributes, following: [])
        }
        let limit = min(Int(request.following), MetaLimits.maximumDirectoryBatch)
        let rows = try await engine.rows(StoreQuery.entriesAfter, [directory.id, entry.id, limit])
        return LookaheadReply(attributes: attributes, following: try rows.map(DirectoryEntry.init(listedRow:)))
    }
}
