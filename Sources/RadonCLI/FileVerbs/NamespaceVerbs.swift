import ArgumentParser
import Foundation
import RadonClient

/// `radonfs ls [PATH]`: lists a directory of the cluster.
struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a directory in the cluster (mode, links, size, name).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The directory (default /).") var path: String = "/"

    func run() async throws {
        try await withClusterClient(cluster) { client in
            let attributes = try await RemotePath.resolve(path, in: client)
            guard attributes.kind == .directory else {
                print(FileListing.line(name: RemotePath.components(path).last?.description ?? "/", attributes))
                return
            }
            var cookie: UInt64 = 0
            while true {
                let entries = try await client.readDirectory(attributes.inode, after: cookie, limit: 1000)
                guard let last = entries.last else { break }
                for entry in entries where entry.name != .dot && entry.name != .dotDot {
                    // Escaped: bytes that are not UTF-8 as \xNN, control characters too.
                    print(FileListing.line(name: entry.name.description, entry.attributes))
                }
                cookie = last.cookie
            }
        }
    }
}

/// `radonfs stat PATH`: every attribute of one inode.
struct StatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stat", abstract: "Show the attributes of a file or directory in the cluster.")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The path in the cluster.") var path: String

    func run() async throws {
        try await withClusterClient(cluster) { client in
            let a = try await RemotePath.resolve(path, in: client)
            print("""
                  path: \(path)
                 inode: \(a.inode)
                  kind: \(a.kind)
                  mode: \(String(a.mode, radix: 8)) (\(FileListing.modeString(a)))
                 links: \(a.linkCount)
               uid/gid: \(a.uid)/\(a.gid)
                  size: \(a.size)
                access: \(FileListing.date(a.accessTime))
                modify: \(FileListing.date(a.modificationTime))
                change: \(FileListing.date(a.changeTime))
            generation: \(a.generation)
            """)
        }
    }
}

/// `radonfs rm PATH`: removes a file (or, with -r... not supported: directories need `rm -d`).
struct RmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a file, or an empty directory with -d, from the cluster.")

    @OptionGroup var cluster: ClusterLocator
    @Flag(name: .short, help: "Remove an empty directory.") var directory = false
    @Argument(help: "The paths in the cluster.") var paths: [String]

    func run() async throws {
        try await withClusterClient(cluster) { client in
            for path in paths {
                let (parent, name) = try await RemotePath.parentAndName(path, in: client)
                if directory {
                    try await client.removeDirectory(parent: parent, name: name, context: .root)
                } else {
                    try await client.removeFile(parent: parent, name: name, context: .root)
                }
            }
        }
    }
}

/// `radonfs mkdir PATH`: makes a directory.
struct MkdirCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mkdir", abstract: "Make directories in the cluster.")

    @OptionGroup var cluster: ClusterLocator
    @Flag(name: .short, help: "Make parent directories as needed; no error if it exists.") var parents = false
    @Argument(help: "The paths in the cluster.") var paths: [String]

    func run() async throws {
        try await withClusterClient(cluster) { client in
            for path in paths {
                if parents {
                    var current: UInt64 = 1
                    for name in RemotePath.components(path) {
                        do {
                            current = try await client.lookup(parent: current, name: name, context: .root).inode
                        } catch let error as FileSystemError where error.errno == FileSystemError.notFound().errno {
                            current = try await client.makeDirectory(parent: current, name: name, permissions: 0o755, context: .root).inode
                        }
                    }
                } else {
                    let (parent, name) = try await RemotePath.parentAndName(path, in: client)
                    _ = try await client.makeDirectory(parent: parent, name: name, permissions: 0o755, context: .root)
                }
            }
        }
    }
}

/// How `ls` and `stat` print attributes.
enum FileListing {
    static func modeString(_ attributes: InodeAttributes) -> String {
        let kind: Character = switch attributes.kind {
        case .directory: "d"
        case .symlink: "l"
        case .fifo: "p"
        case .characterDevice: "c"
        case .blockDevice: "b"
        case .socket: "s"
        case .regular: "-"
        }
        let letters = Array("rwxrwxrwx")
        let bits = (0..<9).map { attributes.permissions & (0o400 >> UInt32($0)) != 0 ? letters[$0] : "-" }
        return String([kind] + bits)
    }

    static func date(_ time: Timestamp) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time.seconds)))
    }

    static func line(name: String, _ attributes: InodeAttributes) -> String {
        "\(modeString(attributes)) \(String(attributes.linkCount).leftPadded(3)) \(String(attributes.size).leftPadded(12)) \(date(attributes.modificationTime)) \(name)"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
