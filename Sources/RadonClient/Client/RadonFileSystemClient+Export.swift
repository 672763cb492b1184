extension RadonFileSystemClient {
    /// The file system as this client's export shows it: the exported directory as inode 1
    /// (`ExportedSubtree`), or this client itself when the export is the whole tree; and the
    /// grant, which says whether the export is read-only.
    public func exportedView() async throws -> (view: any FileSystemOperations, grant: ExportGrant) {
        let grant = try await meta().exportRoot()
        let view: any FileSystemOperations = grant.root.inode == 1 ? self : ExportedSubtree(self, root: grant.root.inode)
        return (view, grant)
    }
}
