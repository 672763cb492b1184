import ArgumentParser
import Foundation
import RadonClient
import RadonCodec

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs up`: a whole local cluster from one command.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local cluster in the background: a metadata service, storage daemons and a mount.",
        discussion: """
            Creates DIR (the cluster key DIR/cluster.key, the metadata database under DIR/meta, one \
            data directory per storage daemon under DIR/storage, logs under DIR/logs), starts \
            `radonfs meta` and N `radonfs storage` daemons on loopback, creates the volume, waits \
            until every node has registered and the placement groups are formed, mounts the file \
            system (unless --no-mount) and records everything in DIR/cluster.json.

            With --meta-engine postgres it first makes (initdb) and starts a PostgreSQL primary and \
            a streaming-replication standby (pg_basebackup) under DIR/postgres, on ports of their \
            own, and starts --meta-servers metadata servers (2 by default) that elect the active \
            one through it; `radonfs meta promote --dir DIR` fails the PostgreSQL primary over.

            Running `up` again on the same DIR restarts whatever is not running, with the same \
            data, key and ports. Stop it all with `radonfs down --dir DIR`.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The cluster directory (created if needed).", valueName: "dir"))
    var dir: String

    @Option(name: .long, help: "Storage daemons to start (default 6, or as many as the cluster had).")
    var nodes: Int?

    @Option(name: .long, help: ArgumentHelp("Erasure-code layout, data+redundancy fragments (e.g. 4+2, 8+4, 2+1).", valueName: "k+m"))
    var layout: String = "4+2"

    @Option(name: .long, help: ArgumentHelp("Codec: mojette-systematic, mojette or rs.", valueName: "codec"))
    var codec: String = CodecKind.mojetteSystematic.rawValue

    @Option(name: .long, help: ArgumentHelp("Bytes per block (e.g. 1MiB, 64KiB).", valueName: "size"))
    var blockSize: String = "1MiB"

    @Option(name: .long, help: ArgumentHelp("Where to mount the file system (default DIR/mnt).", valueName: "dir"))
    var mount: String?

    @Flag(name: .long, help: "Start the daemons but do not mount.")
    var noMount = false

    @Option(name: .customLong("meta-engine"), help: ArgumentHelp("Where the metadata lives: sqlite (one server, the default) or postgres (a local PostgreSQL primary and streaming standby under DIR/postgres, and an active/standby group of metadata servers electing through it).", valueName: "sqlite|postgres"))
    var metaEngine: String?

    @Option(name: .customLong("meta-servers"), help: ArgumentHelp("Metadata servers to start (default 1 with sqlite, 2 with postgres).", valueName: "N"))
    var metaServers: Int?

    @Option(name: .long, help: "Seconds to wait for the cluster to become ready.")
    var timeout: Int = 60

    @Flag(name: .long, help: "Make a new cluster plaintext with a shared key instead of mutual TLS (nothing encrypted, every peer trusted with every role): for measuring what TLS costs.")
    var insecure = false

    @Option(name: .customLong("trash-retention"), help: ArgumentHelp("Set how long removed files are kept (the cluster's setting, 1d for a new cluster; 0 turns the trash off): 0, 3600s, 12h, 1d.", valueName: "duration"))
    var trashRetention: String?

    func validate() throws {
        if let trashRetention, RetentionDuration.seconds(parsing: trashRetention) == nil {
            throw ValidationError("--trash-retention takes a duration such as 0, 3600s, 12h or 1d, not \"\(trashRetention)\"")
        }
        guard (try? CodecLayout(parsing: layout)) != nil else {
            throw ValidationError("--layout must be k+m with 2 <= k <= 16 and 1 <= m <= 8, not \"\(layout)\"")
        }
        guard CodecKind(rawValue: codec) != nil else {
            throw ValidationError("--codec must be one of \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let size = ByteCount.parse(blockSize), size >= 4096, size <= 64 << 20, size % 4096 == 0 else {
            throw ValidationError("--block-size must be a multiple of 4 KiB between 4 KiB and 64 MiB, not \"\(blockSize)\"")
        }
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be at least 1") }
        if let metaEngine, !LocalClusterLauncher.metaEngines.contains(metaEngine) {
            throw ValidationError("--meta-engine is sqlite or postgres, not \"\(metaEngine)\"")
        }
        if let metaServers, metaServers < 1 { throw ValidationError("--meta-servers must be at least 1") }
    }

    func run() async throws {
        // Keys, logs, the database and fragments: private whatever the caller's umask.
        PrivateState.restrictNewFiles()
        let codecLayout = try CodecLayout(parsing: layout)
        let directory = URL(fileURLWithPath: dir).standardizedFileURL.path
        let launcher = LocalClusterLauncher(
            directory: directory, executable: BackgroundProcess.currentExecutable(),
            requestedNodes: nodes, layout: codecLayout, codec: codec, blockSize: ByteCount.parse(blockSize)!,
            mountPoint: noMount ? nil : (mount ?? "\(directory)/mnt"), timeout: .seconds(timeout),
            metaEngine: metaEngine, metaServers: metaServers, insecure: insecure)
        let state = try await launcher.start()
        if let seconds = trashRetention.flatMap(RetentionDuration.seconds(parsing:)) {
            let summary = try await ClusterLocator.parse(["--dir", directory]).withMeta { try await $0.trashSettings(settingRetention: seconds) }
            print(TrashCommand.summaryLine(summary))
        }
        print(launcher.summary(of: state))
    }
}
