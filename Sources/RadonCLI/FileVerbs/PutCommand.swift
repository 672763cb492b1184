import ArgumentParser
import RadonClient

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs put LOCAL REMOTE`: copies a local file into the cluster.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Copy a local file into the cluster (REMOTE is a path like /dir/name; an existing file is replaced).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The local file to copy.") var local: String
    @Argument(help: "Where to put it in the cluster; a directory keeps the local name.") var remote: String

    func run() async throws {
        let descriptor = open(local, O_RDONLY)
        guard descriptor >= 0 else { throw CLIError("cannot open \(local): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        try await withClusterClient(cluster) { client in
            var target = remote
            if let existing = try? await RemotePath.resolve(remote, in: client), existing.kind == .directory {
                target = (remote.hasSuffix("/") ? remote : remote + "/") + (local.split(separator: "/").last.map(String.init) ?? local)
            }
            let (parent, name) = try await RemotePath.parentAndName(target, in: client)
            let handle = try await client.create(
                parent: parent, name: name, permissions: 0o644, flags: OpenFlags(read: false, write: true, truncate: true),
                exclusive: false, context: .root).handle
            var offset: UInt64 = 0
            var buffer = [UInt8](repeating: 0, count: 4 << 20)
            do {
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                    guard count >= 0 else { throw CLIError("reading \(local): \(String(cString: strerror(errno)))") }
                    if count == 0 { break }
                    _ = try await client.write(handle, offset: offset, bytes: Array(buffer[0..<count]))
                    offset += UInt64(count)
                }
                try await client.release(handle)
            } catch {
                try? await client.release(handle)
                throw error
            }
            print("\(local) -> \(target) (\(offset) bytes)")
        }
    }
}
