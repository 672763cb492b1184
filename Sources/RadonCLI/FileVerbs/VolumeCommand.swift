import ArgumentParser
import Foundation
import RadonCodec
import RadonWire

/// `radonfs volume create|list`: the volumes files can live in (a codec, k+m and a block size
/// each, with placement groups of their own). `radonfs layout set` points directories at them.
struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume",
        abstract: "Create and list volumes (a codec, k+m and block size each; directories choose one with `radonfs layout set`).",
        subcommands: [VolumeCreateCommand.self, VolumeListCommand.self])
}

struct VolumeCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a volume: its placement groups are spread over distinct hosts at once (it needs k+m nodes up).")

    @OptionGroup var cluster: ClusterLocator
    @Argument(help: "Its name (no spaces, no \"=\").") var name: String
    @Option(name: .long, help: ArgumentHelp("Codec: mojette-systematic, mojette or rs.", valueName: "codec"))
    var codec: String = CodecKind.mojetteSystematic.rawValue
    @Option(name: .long, help: ArgumentHelp("Data+redundancy fragments (e.g. 8+4).", valueName: "k+m"))
    var layout: String = "4+2"
    @Option(name: .customLong("block-size"), help: ArgumentHelp("Bytes per block (e.g. 1MiB, 64KiB).", valueName: "size"))
    var blockSize: String = "1MiB"
    @Option(name: .long, help: "Placement groups.") var groups: UInt32 = 64

    func validate() throws {
        guard CodecKind(rawValue: codec) != nil else { throw ValidationError("--codec must be one of \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard (try? CodecLayout(parsing: layout)) != nil else { throw ValidationError("--layout must be k+m, e.g. 8+4, not \"\(layout)\"") }
        guard ByteCount.parse(blockSize) != nil else { throw ValidationError("--block-size must be a size such as 1MiB, not \"\(blockSize)\"") }
    }

    var specification: VolumeSpecification {
        get throws {
            let parsed = try CodecLayout(parsing: layout)
            return VolumeSpecification(
                name: name, codec: codec, k: UInt32(parsed.dataCount), n: UInt32(parsed.fragmentCount),
                blockSize: UInt32(ByteCount.parse(blockSize) ?? (1 << 20)), groupCount: groups)
        }
    }

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        do {
            let volume = try await meta.createVolume(try specification)
            print("volume \(volume.id) \(volume.name): \(LayoutAttribute.describe(volume)), \(volume.groupCount) placement groups")
        } catch {
            throw CLIError("cannot create volume \(name): \(error)")
        }
    }
}

struct VolumeListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the volumes.")

    @OptionGroup var cluster: ClusterLocator

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        for volume in try await meta.volumes() {
            print("\(volume.id)\t\(volume.name)\t\(volume.codec) \(volume.k)+\(volume.n - volume.k)\tblock \(ByteCount.describe(Int(volume.blockSize)))\t\(volume.groupCount) groups\(volume.isDefault ? "\tdefault" : "")")
        }
    }
}
