import ArgumentParser
import Foundation
import RadonClient
import RadonWire

/// `radonfs quota set|get|list`: per-directory limits in bytes and in files, as CephFS, JuiceFS
/// and MooseFS offer. Writes and creates past a limit fail with EDQUOT; `df` on a mount of the
/// directory (`radonfs mount --subdir DIR`) shows the quota as its size.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract: "Set, show and list directory quotas (bytes and files).",
        discussion: """
            Every name below the directory (file, directory, symbolic link) counts as one file, \
            and regular files' sizes as bytes. A write, create, link or rename that would take a \
            quota past its limit fails with EDQUOT ("Disk quota exceeded"); removing and \
            shrinking always work. Files in the trash count against no quota.
            """,
        subcommands: [QuotaSetCommand.self, QuotaGetCommand.self, QuotaListCommand.self])

    static func line(_ quota: DirectoryQuota, path: String) -> String {
        func limit(_ value: UInt64, bytes: Bool) -> String {
            value == 0 ? "unlimited" : bytes ? ByteCount.describe(Int(clamping: value)) : "\(value)"
        }
        return "\(path)\tbytes \(ByteCount.describe(Int(clamping: quota.usedBytes))) of \(limit(quota.maximumBytes, bytes: true))"
            + "\tfiles \(quota.usedFiles) of \(limit(quota.maximumFiles, bytes: false))"
    }
}

struct QuotaSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set a directory's limits (0 for none; both 0 removes the quota).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The directory in the cluster.") var path: String
    @Option(name: .long, help: ArgumentHelp("Most bytes of files below it (e.g. 10GiB; 0: no limit).", valueName: "size")) var bytes: String?
    @Option(name: .long, help: ArgumentHelp("Most files, directories and links below it (0: no limit).", valueName: "count")) var files: UInt64?

    func validate() throws {
        guard bytes != nil || files != nil else { throw ValidationError("give --bytes, --files or both") }
        if let bytes, ByteCount.parse(bytes) == nil { throw ValidationError("--bytes must be a size such as 10GiB or 0, not \"\(bytes)\"") }
    }

    func run() async throws {
        try await withResolvedPath(cluster, path) { meta, directory in
            guard directory.kind == .directory else { throw CLIError("\(path) is not a directory") }
            let current = try await meta.quotas(of: directory.inode).first
            let maximumBytes = bytes.flatMap { ByteCount.parse($0) }.map { UInt64($0) } ?? current?.maximumBytes ?? 0
            let maximumFiles = files ?? current?.maximumFiles ?? 0
            let reply = try await meta.setQuota(of: directory.inode, maximumBytes: maximumBytes, maximumFiles: maximumFiles)
            if let quota = reply.quotas.first { print(QuotaCommand.line(quota, path: path)) } else { print("\(path): no quota") }
        }
    }
}

struct QuotaGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a directory's quota and use.")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The directory in the cluster.") var path: String

    func run() async throws {
        try await withResolvedPath(cluster, path) { meta, directory in
            guard let quota = try await meta.quotas(of: directory.inode).first else {
                print("\(path): no quota")
                return
            }
            print(QuotaCommand.line(quota, path: path))
        }
    }
}

struct QuotaListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every directory quota.")

    @OptionGroup var cluster: ClusterLocator
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        let quotas = try await meta.quotas()
        if json {
            print(try CLIOutput.json(quotas))
            return
        }
        for quota in quotas { print(QuotaCommand.line(quota, path: quota.path.isEmpty ? "inode \(quota.inode)" : quota.path)) }
    }
}
