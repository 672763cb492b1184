import ArgumentParser
import Foundation
import RadonCodec

/// `radonfs testbed up`: builds the hosts and starts the cluster on them.
struct TestbedUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Build the test bed's hosts and start a cluster over them, a mount per client host.",
        discussion: """
            Hosts: meta0 (10.214.1.2) and with --metas 2 meta1 (10.214.1.3), storage0.. (10.214.10.2.., a further path p of a storage host at \
            10.214.(10+p).x), client0.. (10.214.100.2..), each mounting the file system at DIR/mnt/clientN \
            (visible from the whole machine). Each storage host runs one storage daemon listening on all \
            its paths, with the host's name as failure domain. Daemons listen on their host's address only. \
            With --client-paths C each client host gets C links too, at 10.214.(100+q).x, and routes pair them: \
            storage path p is reached over client link p mod C, and answers over its own link p; metadata \
            stays on the first link. On failure everything made is removed again.
            """)

    @OptionGroup var directory: TestbedDirectoryOption

    @Option(name: .customLong("storage-hosts"), help: "Storage hosts.")
    var storageHosts = 6

    @Option(name: .long, help: "Links (and addresses) per storage host; its one storage daemon listens on all.")
    var paths = 1

    @Option(name: .customLong("client-paths"), help: "Links per client host (at most --paths), each carrying its share of the storage paths.")
    var clientPaths = 1

    @Option(name: .long, help: "Metadata hosts: 1 (meta0, SQLite) or 2 (meta0 active, meta1 standby, over a PostgreSQL primary on meta0 streaming to a standby on meta1).")
    var metas = 1

    @Option(name: .long, help: "Client hosts, each with its own mount (1 to 3).")
    var clients = 2

    @Option(name: .long, help: ArgumentHelp("The tbf rate of each direction of each link (tc's syntax).", valueName: "rate"))
    var rate = TestbedPlan.defaultRate

    @Option(name: .long, help: ArgumentHelp("The volume's erasure-code layout, data+redundancy.", valueName: "k+m"))
    var layout = "4+2"

    @Option(name: .long, help: ArgumentHelp("Codec: mojette-systematic, mojette or rs.", valueName: "codec"))
    var codec = CodecKind.mojetteSystematic.rawValue

    @Option(name: .customLong("block-size"), help: ArgumentHelp("Bytes per block.", valueName: "size"))
    var blockSize = "1MiB"

    @Option(name: .long, help: "Seconds to wait for the cluster to become ready.")
    var timeout = 60

    func validate() throws {
        guard CodecKind(rawValue: codec) != nil else { throw ValidationError("--codec must be one of \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard let parsed = try? CodecLayout(parsing: layout) else { throw ValidationError("--layout must be k+m, e.g. 4+2") }
        guard parsed.fragmentCount <= storageHosts else {
            throw ValidationError("layout \(layout) puts each block on \(parsed.fragmentCount) hosts; --storage-hosts \(storageHosts) is too few")
        }
        guard ByteCount.parse(blockSize) != nil else { throw ValidationError("--block-size must be a size such as 1MiB") }
        guard rate.range(of: #"^[0-9]+(\.[0-9]+)?[kmg]?(bit|bps)$"#, options: .regularExpression) != nil else {
            throw ValidationError("--rate must be a tc rate such as 1gbit or 500mbit, got \"\(rate)\"")
        }
        do { _ = try TestbedPlan(storageHosts: storageHosts, paths: paths, metas: metas, clients: clients, clientPaths: clientPaths) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        let launcher = try TestbedLauncher(
            directory: directory.path, executable: BackgroundProcess.currentExecutable(),
            plan: TestbedPlan(storageHosts: storageHosts, paths: paths, metas: metas, clients: clients, clientPaths: clientPaths), rate: rate,
            codec: codec, layout: CodecLayout(parsing: layout), blockSize: ByteCount.parse(blockSize) ?? (1 << 20), timeout: .seconds(timeout))
        do {
            _ = try await launcher.start()
        } catch {
            if !(error is TestbedLauncher.AlreadyUp) {
                _ = await TestbedTeardown.run(directory: directory.path, grace: .seconds(5))
            }
            throw error
        }
        print("""
            Test bed up in \(directory.path) (state \(TestbedState.path(in: directory.path))).
              radonfs testbed status --dir \(directory.path)
              radonfs testbed run client0 --dir \(directory.path) -- COMMAND...
              radonfs status --dir \(directory.path)      (the cluster, from the host over the bridge)
              radonfs testbed down --dir \(directory.path)
            """)
    }
}
