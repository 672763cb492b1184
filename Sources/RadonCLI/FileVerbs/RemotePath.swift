import RadonClient

/// Paths inside the cluster, as the file verbs take them (`/dir/file`; a leading `/` optional).
/// Arguments are text; each component is looked up as its UTF-8 bytes.
enum RemotePath {
    static func components(_ path: String) -> [FileName] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { FileName(String($0)) }.filter { $0 != .dot }
    }

    /// `components` joined back into a path, for messages.
    static func joined(_ names: some Sequence<FileName>) -> String {
        names.map(\.description).joined(separator: "/")
    }

    /// The attributes of `path`, walking from the root.
    static func resolve(_ path: String, in client: any FileSystemOperations) async throws -> InodeAttributes {
        try await resolve(components(path), in: client)
    }

    /// The attributes at the end of `names`, walking from the root.
    static func resolve(_ names: some Sequence<FileName>, in client: any FileSystemOperations) async throws -> InodeAttributes {
        var current = try await client.attributes(of: 1)
        for name in names {
            current = try await client.lookup(parent: current.inode, name: name, context: .root)
        }
        return current
    }

    /// The parent directory's inode and the last name of `path`.
    static func parentAndName(_ path: String, in client: any FileSystemOperations) async throws -> (parent: UInt64, name: FileName) {
        let parts = components(path)
        guard let name = parts.last else { throw FileSystemError.invalid("\"\(path)\" names the root, not a file") }
        let parent = try await resolve(parts.dropLast(), in: client)
        guard parent.kind == .directory else { throw FileSystemError.notDirectory(joined(parts.dropLast())) }
        return (parent.inode, name)
    }
}

/// Runs a file verb with a connected client, turning POSIX errors into one clear line.
/// The client sees the file system as its certificate's export shows it (`exportedView`).
func withClusterClient(_ locator: ClusterLocator, _ body: (any FileSystemOperations) async throws -> Void) async throws {
    let client: RadonFileSystemClient
    let view: any FileSystemOperations
    do {
        client = try await locator.connectClient()
        view = try await client.exportedView().view
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError("\(error)")
    }
    do {
        try await body(view)
        await client.close()
    } catch let error as FileSystemError {
        await client.close()
        throw CLIError("\(error)")
    } catch {
        await client.close()
        throw error
    }
}

/// Runs an operator verb on one path: `body` gets a metadata client and the path's attributes.
func withResolvedPath(_ locator: ClusterLocator, _ path: String, _ body: (MetaClient, InodeAttributes) async throws -> Void) async throws {
    let (meta, pool) = try await locator.connectMeta()
    defer { Task { await pool.closeAll() } }
    try await withClusterClient(locator) { client in
        try await body(meta, try await RemotePath.resolve(path, in: client))
    }
}
