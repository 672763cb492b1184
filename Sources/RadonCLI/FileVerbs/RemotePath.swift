import RadonClient

/// Paths inside the cluster, as the file verbs take them (`/dir/file`; a leading `/` optional).
enum RemotePath {
    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    /// The attributes of `path`, walking from the root.
    static func resolve(_ path: String, in client: RadonFileSystemClient) async throws -> InodeAttributes {
        var current = try await client.attributes(of: 1)
        for name in components(path) {
            current = try await client.lookup(parent: current.inode, name: name, context: .root)
        }
        return current
    }

    /// The parent directory's inode and the last name of `path`.
    static func parentAndName(_ path: String, in client: RadonFileSystemClient) async throws -> (parent: UInt64, name: String) {
        let parts = components(path)
        guard let name = parts.last else { throw FileSystemError.invalid("\"\(path)\" names the root, not a file") }
        let parent = try await resolve(parts.dropLast().joined(separator: "/"), in: client)
        guard parent.kind == .directory else { throw FileSystemError.notDirectory(parts.dropLast().joined(separator: "/")) }
        return (parent.inode, name)
    }
}

/// Runs a file verb with a connected client, turning POSIX errors into one clear line.
func withClusterClient(_ locator: ClusterLocator, _ body: (RadonFileSystemClient) async throws -> Void) async throws {
    let client: RadonFileSystemClient
    do {
        client = try await locator.connectClient()
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError("\(error)")
    }
    do {
        try await body(client)
        await client.close()
    } catch let error as FileSystemError {
        await client.close()
        throw CLIError("\(error)")
    } catch {
        await client.close()
        throw error
    }
}
