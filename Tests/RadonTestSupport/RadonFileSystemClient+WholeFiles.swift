import RadonClient

extension RadonFileSystemClient {
    /// Creates (or replaces) `name` in `parent` with `bytes`, written in 1 MiB requests, and
    /// closes it: when this returns, the file is acknowledged, which is what durability tests
    /// need to rely on.
    @discardableResult
    public func writeFile(parent: UInt64, name: FileName, bytes: [UInt8]) async throws -> InodeAttributes {
        let created = try await create(
            parent: parent, name: name, permissions: 0o644, flags: OpenFlags(read: false, write: true, truncate: true),
            exclusive: false, context: .root)
        let (attributes, handle) = (created.attributes, created.handle)
        do {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + (1 << 20))
                _ = try await write(handle, offset: UInt64(offset), bytes: Array(bytes[offset..<end]))
                offset = end
            }
            try await release(handle)
        } catch {
            try? await release(handle)
            throw error
        }
        return attributes
    }

    /// The whole content of `inode`, read in 1 MiB requests.
    public func readFile(_ inode: UInt64) async throws -> [UInt8] {
        let handle = try await open(inode, flags: OpenFlags(read: true, write: false), context: .root)
        defer { Task { try? await release(handle) } }
        var result: [UInt8] = []
        while true {
            let chunk = try await read(handle, offset: UInt64(result.count), count: 1 << 20)
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    /// Walks `path` from the root.
    public func resolve(_ path: String) async throws -> InodeAttributes {
        var current = try await attributes(of: 1)
        for name in path.split(separator: "/") {
            current = try await lookup(parent: current.inode, name: FileName(String(name)), context: .root)
        }
        return current
    }
}
