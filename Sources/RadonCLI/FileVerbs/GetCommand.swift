import ArgumentParser
import RadonClient

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs get REMOTE LOCAL`: copies a file out of the cluster.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Copy a file from the cluster to a local file (`-` writes it to standard output).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The file in the cluster, a path like /dir/name.") var remote: String
    @Argument(help: "The local file to write (replaced if it exists), or - for standard output.") var local: String

    func run() async throws {
        try await withClusterClient(cluster) { client in
            let attributes = try await RemotePath.resolve(remote, in: client)
            guard attributes.kind == .regular else { throw CLIError("\(remote) is a \(attributes.kind), not a regular file") }
            let descriptor = local == "-" ? STDOUT_FILENO : open(local, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else { throw CLIError("cannot create \(local): \(String(cString: strerror(errno)))") }
            defer { if descriptor != STDOUT_FILENO { close(descriptor) } }
            let handle = try await client.open(attributes.inode, flags: OpenFlags(read: true, write: false), context: .root)
            defer { Task { try? await client.release(handle) } }
            var offset: UInt64 = 0
            while true {
                let bytes = try await client.read(handle, offset: offset, count: 4 << 20)
                if bytes.isEmpty { break }
                var written = 0
                while written < bytes.count {
                    let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                    guard count > 0 else { throw CLIError("writing \(local): \(String(cString: strerror(errno)))") }
                    written += count
                }
                offset += UInt64(bytes.count)
            }
            try await client.release(handle)
            if local != "-" { print("\(remote) -> \(local) (\(offset) bytes)") }
        }
    }
}
