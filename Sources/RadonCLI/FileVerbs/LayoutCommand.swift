import ArgumentParser
import Foundation
import RadonClient
import RadonCodec
import RadonWire

/// `radonfs layout get|set|unset|apply`: which volume (codec, k+m, block size) the files of a
/// directory go to, as CephFS file layouts and SeaweedFS path rules do. The same setting is the
/// `radonfs.layout` extended attribute on a mount (`getfattr -n radonfs.layout DIR`,
/// `setfattr -n radonfs.layout -v volume=NAME DIR`).
struct LayoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Show or set the volume a directory's new files go to, and re-encode existing files into it.",
        discussion: """
            A directory's layout is the volume its new files are created in; a new subdirectory \
            takes its parent's. Existing files keep the layout they were written with until \
            `radonfs layout apply` re-encodes them, online: each file is read, written into its \
            directory's volume, and switched over unless it changed or was open meanwhile (it is \
            then tried again). The same setting is the radonfs.layout extended attribute on a mount.
            """,
        subcommands: [LayoutGetCommand.self, LayoutSetCommand.self, LayoutUnsetCommand.self, LayoutApplyCommand.self])

    /// The `radonfs.layout` attribute of `inode`, as text.
    static func attribute(of inode: UInt64, meta: MetaClient) async throws -> String {
        String(decoding: try await meta.extendedAttribute(of: inode, name: LayoutAttribute.name), as: UTF8.self)
    }

    /// The volume `inode` (a file, or a directory's new files) is in, as the attribute names it.
    static func volume(of inode: UInt64, meta: MetaClient, volumes: [VolumeSettings]) async throws -> VolumeSettings {
        let value = try await attribute(of: inode, meta: meta)
        guard let name = LayoutAttribute.volumeName(in: value), let volume = volumes.first(where: { $0.name == name }) else {
            throw CLIError("inode \(inode) names no known volume (\(value))")
        }
        return volume
    }

    static func setVolume(_ volume: VolumeSettings, of inode: UInt64, meta: MetaClient) async throws {
        try await meta.setExtendedAttribute(of: inode, name: LayoutAttribute.name, value: Array("volume=\(volume.name)".utf8), caller: .root)
    }
}

struct LayoutGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show the layout of a file or directory.")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The path in the cluster.") var path: String

    func run() async throws {
        try await withResolvedPath(cluster, path) { meta, target in
            print(try await LayoutCommand.attribute(of: target.inode, meta: meta))
        }
    }
}

struct LayoutSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Send a directory's new files (and new subdirectories') to a volume.",
        discussion: "Name the volume, or give a codec and k+m: a volume with them is used, or created (named CODEC-K+M).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The directory in the cluster.") var path: String
    @Option(name: .long, help: "An existing volume (`radonfs volume list`).") var volume: String?
    @Option(name: .long, help: ArgumentHelp("Codec: mojette-systematic, mojette or rs.", valueName: "codec")) var codec: String?
    @Option(name: .long, help: ArgumentHelp("Data+redundancy fragments (e.g. 8+4), with --codec.", valueName: "k+m")) var layout: String?
    @Option(name: .customLong("block-size"), help: ArgumentHelp("Bytes per block of a volume made for --codec and --layout.", valueName: "size"))
    var blockSize: String = "1MiB"

    func validate() throws {
        guard (volume == nil) != (codec == nil && layout == nil) else {
            throw ValidationError("give --volume NAME, or --codec and --layout")
        }
        if volume == nil {
            guard let codec, CodecKind(rawValue: codec) != nil else { throw ValidationError("--codec must be one of \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard let layout, (try? CodecLayout(parsing: layout)) != nil else { throw ValidationError("--layout must be k+m, e.g. 8+4") }
            guard ByteCount.parse(blockSize) != nil else { throw ValidationError("--block-size must be a size such as 1MiB") }
        }
    }

    func run() async throws {
        try await withResolvedPath(cluster, path) { meta, directory in
            let chosen = try await chooseVolume(meta)
            try await LayoutCommand.setVolume(chosen, of: directory.inode, meta: meta)
            print("\(path): new files go to \(LayoutAttribute.describe(chosen)); `radonfs layout apply \(path) --recursive` re-encodes the files already there")
        }
    }

    /// --volume, or the volume with --codec and --layout (made when there is none).
    func chooseVolume(_ meta: MetaClient) async throws -> VolumeSettings {
        let volumes = try await meta.volumes()
        if let volume {
            guard let found = volumes.first(where: { $0.name == volume }) else {
                throw CLIError("no volume named \(volume); there are: \(volumes.map(\.name).joined(separator: ", "))")
            }
            return found
        }
        guard let codec, let layout else { throw CLIError("give --volume, or --codec and --layout") }
        let parsed = try CodecLayout(parsing: layout)
        let size = UInt32(ByteCount.parse(blockSize) ?? (1 << 20))
        if let found = volumes.first(where: {
            $0.codec == codec && $0.k == UInt32(parsed.dataCount) && $0.n == UInt32(parsed.fragmentCount) && $0.blockSize == size
        }) {
            return found
        }
        let base = "\(codec)-\(parsed.dataCount)+\(parsed.redundancyCount)"
        var name = base
        var suffix = 2
        while volumes.contains(where: { $0.name == name }) {
            name = "\(base)-\(suffix)"
            suffix += 1
        }
        do {
            let created = try await meta.createVolume(VolumeSpecification(
                name: name, codec: codec, k: UInt32(parsed.dataCount), n: UInt32(parsed.fragmentCount), blockSize: size))
            print("created volume \(created.name)")
            return created
        } catch {
            throw CLIError("cannot create a \(codec) \(layout) volume: \(error)")
        }
    }
}

struct LayoutUnsetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unset", abstract: "Give a directory its parent's layout again.")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "The directory in the cluster.") var path: String

    func run() async throws {
        try await withResolvedPath(cluster, path) { meta, directory in
            try await meta.removeExtendedAttribute(of: directory.inode, name: LayoutAttribute.name, caller: .root)
            print("\(path): " + (try await LayoutCommand.attribute(of: directory.inode, meta: meta)))
        }
    }
}
