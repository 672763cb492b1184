extension MetaClient {
    /// The root this caller may mount and whether it may write; the whole file system,
    /// read-write, for a caller with no export (an operator, a shared-key peer).
    public func exportRoot() async throws -> ExportGrant {
        try await call(.exportRoot, WireEmpty())
    }

    /// Adds or replaces the export of `rule.name`; the service resolves `rule.path` to its
    /// directory and answers with the rule as stored.
    public func addExport(_ rule: ExportRule) async throws -> ExportRule {
        try await call(.addExport, rule)
    }

    public func exports() async throws -> [ExportRule] {
        let reply: ExportListReply = try await call(.exports, WireEmpty())
        return reply.exports
    }

    /// Throws `WireError(.notFound)` when `name` has no export.
    public func removeExport(named name: String) async throws {
        let _: WireEmpty = try await call(.removeExport, ExportNameRequest(name: name))
    }
}
