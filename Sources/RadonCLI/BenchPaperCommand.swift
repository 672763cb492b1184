import ArgumentParser
import Foundation
import RadonCodec

/// `radonfs bench paper`: the RozoFS paper's experiment (its section 5, figures 4 and 5) on a
/// `radonfs testbed`: 1, 2 and 3 client hosts, 5 threads each on their own files, sequential
/// and random reads and writes, with layouts 2+1 and 4+2, beside iperf3 over the same links.
struct BenchPaperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paper",
        abstract: "Run the RozoFS paper's experiment on an emulated test bed of 1 Gbit/s hosts; a table and PNG plots.",
        discussion: """
            Needs root, fio, iperf3 and gnuplot (scripts/install-dependencies.sh --bench). Uses the test bed \
            in --dir if one is up (it must have enough client hosts), else brings one up (6 storage hosts, \
            --metas metadata hosts, as many client hosts as the largest --clients) and takes it down at the end \
            unless --keep. Each layout gets a directory of its own (radonfs layout set). Every thread works on \
            its own file; a client reads the files the next client wrote (through its own mount); MB/s are 10^6 bytes per second, each thread's own bytes over its own time, and the \
            accumulated figure is their sum, as the paper's. --cut-link then writes and reads once more with \
            the first layout and the most clients, takes storage0's link down half-way through the reads, and \
            reports the slowest thread. --quick: 64 MiB files, 5 s random runs, layout 2+1, 1 client. \
            --paths and --client-paths give the bed it brings up several links per storage and client host \
            (testbed up's options of the same names); the iperf3 bound then covers every link.
            """)

    @OptionGroup var bed: TestbedDirectoryOption

    @Option(help: ArgumentHelp("Where the table (table.md), the JSON report and the plots go.", valueName: "dir"))
    var output = "paper-results"

    @Option(help: ArgumentHelp("Comma-separated layouts k+m (default 2+1,4+2; --quick: 2+1).", valueName: "k+m,..."))
    var layouts: String?

    @Option(help: ArgumentHelp("Comma-separated numbers of client hosts, 1 to 3 (default 1,2,3; --quick: 1).", valueName: "n,..."))
    var clients: String?

    @Option(help: "Links per storage host of a bed this run brings up (default 1); a running bed must have as many.")
    var paths: Int?

    @Option(name: .customLong("client-paths"), help: "Links per client host of a bed this run brings up (default 1, at most --paths); a running bed must have as many.")
    var clientPaths: Int?

    @Option(help: "Threads per client, each on its own file.")
    var threads = 5

    @Option(name: .customLong("file-size"), help: ArgumentHelp("Each thread's file (default 256MiB: 15 threads' files fit in RAM many times over, and are 20 times a mount's 64 MiB block cache; --quick: 64MiB).", valueName: "size"))
    var fileSize: String?

    @Option(name: .customLong("random-block-size"), help: ArgumentHelp("Request size of the random jobs.", valueName: "size"))
    var randomBlockSize = "128KiB"

    @Option(name: .customLong("random-runtime"), help: ArgumentHelp("Seconds each random job runs (default 20; --quick: 5).", valueName: "seconds"))
    var randomRuntime: Int?

    @Option(help: ArgumentHelp("Codec of the layouts' volumes: mojette-systematic, mojette or rs.", valueName: "codec"))
    var codec = CodecKind.mojetteSystematic.rawValue

    @Option(name: .customLong("iperf-seconds"), help: "Seconds of each iperf3 measurement (0: none).")
    var iperfSeconds = 5

    @Flag(name: .customLong("cut-link"), help: "Also run the sequential reads once more with storage0's link cut half-way through.")
    var cutLink = false

    @Flag(help: "A run of a few minutes to check that everything works: small files, one layout, one client count.")
    var quick = false

    @Option(help: "Metadata hosts of a bed this run brings up: 1 (SQLite, the default: the numbers are the data path's, and every earlier table was made so) or 2 (the paper's active and standby, over PostgreSQL).")
    var metas = 1

    @Flag(help: "Leave a test bed this run brought up running.")
    var keep = false

    var chosenLayouts: [String] { (layouts ?? (quick ? "2+1" : "2+1,4+2")).split(separator: ",").map(String.init) }
    var chosenClients: [Int] { (clients ?? (quick ? "1" : "1,2,3")).split(separator: ",").compactMap { Int($0) } }
    var chosenFileSize: Int { ByteCount.parse(fileSize ?? (quick ? "64MiB" : "256MiB")) ?? 0 }
    var chosenRandomRuntime: Int { randomRuntime ?? (quick ? 5 : 20) }

    func validate() throws {
        for layout in chosenLayouts {
            guard let parsed = try? CodecLayout(parsing: layout) else { throw ValidationError("--layouts takes k+m values, e.g. 2+1,4+2; got \(layout)") }
            guard parsed.fragmentCount <= 6 else { throw ValidationError("layout \(layout) needs \(parsed.fragmentCount) storage hosts; the bed has 6") }
        }
        let counts = (clients ?? "1").split(separator: ",")
        guard counts.allSatisfy({ Int($0).map(TestbedPlan.clientRange.contains) ?? false }), !counts.isEmpty else {
            throw ValidationError("--clients takes numbers from 1 to 3, comma-separated, e.g. 1,2,3")
        }
        guard threads >= 1, threads <= 64 else { throw ValidationError("--threads must be 1 to 64") }
        guard chosenFileSize >= 1 << 20 else { throw ValidationError("--file-size must be a size of 1MiB or more, such as 256MiB") }
        guard let random = ByteCount.parse(randomBlockSize), random >= 4096 else { throw ValidationError("--random-block-size must be 4KiB or more") }
        guard chosenRandomRuntime >= 1 else { throw ValidationError("--random-runtime must be at least 1 second") }
        guard CodecKind(rawValue: codec) != nil else { throw ValidationError("--codec must be one of \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard iperfSeconds >= 0 else { throw ValidationError("--iperf-seconds must be 0 or more") }
        do { _ = try TestbedPlan(paths: paths ?? 1, metas: metas, clientPaths: clientPaths ?? 1) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        BenchFSSystem.catchInterruptions()
        for tool in ["fio", "gnuplot"] + (iperfSeconds > 0 ? ["iperf3"] : []) where !BenchFSSystem.isInstalled(tool) {
            throw CLIError("\(tool) is not installed: scripts/install-dependencies.sh --bench")
        }
        let maximumClients = chosenClients.max() ?? 1
        let (state, broughtUp) = try await ensureBed(clients: maximumClients)
        do {
            let report = try await measure(on: state, maximumClients: maximumClients)
            try await publish(report)
        } catch {
            if broughtUp && !keep { await takeDown() }
            throw error
        }
        if broughtUp && !keep { await takeDown() }
    }

    /// The running bed, or a new one (and whether this run made it).
    private func ensureBed(clients: Int) async throws -> (TestbedState, Bool) {
        if let state = try? TestbedState.load(from: bed.path) {
            guard state.plan.clients >= clients else {
                throw CLIError("the test bed in \(bed.path) has \(state.plan.clients) client hosts; --clients asks for \(clients) (take it down, or ask for fewer)")
            }
            if state.plan.metas != metas {
                print("note: the test bed in \(bed.path) has \(state.plan.metas) metadata hosts; --metas \(metas) applies to a bed this run brings up.")
            }
            for (option, asked, has) in [("--paths", paths, state.plan.paths), ("--client-paths", clientPaths, state.plan.clientPaths)] {
                if let asked, asked != has {
                    throw CLIError("the test bed in \(bed.path) has \(has) links per host where \(option) asks for \(asked) (take it down, or leave \(option) out)")
                }
            }
            print("Using the test bed in \(bed.path).")
            return (state, false)
        }
        let first = try CodecLayout(parsing: chosenLayouts[0])
        let launcher = try TestbedLauncher(
            directory: bed.path, executable: BackgroundProcess.currentExecutable(),
            plan: TestbedPlan(paths: paths ?? 1, metas: metas, clients: clients, clientPaths: clientPaths ?? 1),
            rate: TestbedPlan.defaultRate, codec: codec, layout: first, blockSize: 1 << 20, timeout: .seconds(90))
        do {
            return (try await launcher.start(), true)
        } catch {
            if !(error is TestbedLauncher.AlreadyUp) { await takeDown() }
            throw error
        }
    }

    private func takeDown() async {
        let outcome = await TestbedTeardown.run(directory: bed.path, grace: .seconds(10))
        print("Test bed taken down (\(outcome.namespacesRemoved.count) namespaces, \(outcome.stopped) processes).")
    }

    private func measure(on state: TestbedState, maximumClients: Int) async throws -> BenchPaperReport {
        let jobs = BenchPaperJobs(
            threads: threads, fileSize: chosenFileSize, randomRequestSize: ByteCount.parse(randomBlockSize) ?? 131_072,
            randomRuntime: chosenRandomRuntime)
        var report = BenchPaperReport(
            date: ISO8601DateFormatter().string(from: Date()), command: CommandLine.arguments.joined(separator: " "),
            cores: ProcessInfo.processInfo.activeProcessorCount, memoryGiB: Int(ProcessInfo.processInfo.physicalMemory >> 30),
            codec: codec, threadsPerClient: threads, fileSize: chosenFileSize, randomRequestSize: jobs.randomRequestSize,
            randomRuntime: chosenRandomRuntime, linkRate: state.rate, storagePaths: state.plan.paths,
            clientPaths: state.plan.clientPaths, clientLinks: Array(state.plan.clientLinkPlan.prefix(maximumClients * state.plan.clientPaths)))
        print(report.header)
        let mounts = try state.plan.hosts(.client).prefix(maximumClients).map { host -> String in
            guard let mountPoint = state.mount(of: host)?.mountPoint else { throw CLIError("\(host.name) has no mount in the test bed") }
            return mountPoint
        }
        for layout in chosenLayouts {
            let directory = try await setLayout(layout, under: mounts[0])
            for clients in chosenClients {
                for test in BenchPaperTest.allCases {
                    let rates = try await jobs.run(test, in: Self.directories(mounts, under: "\(directory)/\(clients)-clients", clients: clients, after: test))
                    let result = BenchPaperResult(layout: layout, clients: clients, test: test, threadMBps: rates)
                    report.results.append(result)
                    print("  \(layout), \(clients) clients, \(test.label): min \(BenchPaperReport.format(result.minimum)), median \(BenchPaperReport.format(result.median)), accumulated \(BenchPaperReport.format(result.accumulated)) MB/s")
                }
                try? FileManager.default.removeItem(atPath: "\(mounts[0])/\(directory)/\(clients)-clients")
            }
        }
        if cutLink {
            report.cutLink = try await runCutLink(jobs: jobs, state: state, mounts: mounts, report: report)
            if let line = report.cutLinkLine { print("  " + line) }
        }
        if iperfSeconds > 0 {
            report.linkBounds = try await BenchPaperLinkBound(state: state, seconds: iperfSeconds, log: { print($0) }).measure(clients: maximumClients)
        }
        return report
    }

    /// Where each client's threads work: client i writes its own files, then reads (and
    /// rewrites at random) those client i+1 wrote, through its own mount, so a read never comes
    /// from the writer's block cache (with one client it does, for what of its files fits the
    /// mount's 64 MiB cache: hence files of 64 MiB and more).
    static func directories(_ mounts: [String], under path: String, clients: Int, after test: BenchPaperTest) -> [String] {
        (0..<clients).map { client in
            let writer = test == .sequentialWrite ? client : (client + 1) % clients
            return "\(mounts[client])/\(path)/client\(writer)"
        }
    }

    /// Makes /paper-LAYOUT on the file system and sends its new files to a volume with that
    /// layout (made if there is none); returns its name.
    private func setLayout(_ layout: String, under mountPoint: String) async throws -> String {
        let name = "paper-\(layout)"
        try FileManager.default.createDirectory(atPath: "\(mountPoint)/\(name)", withIntermediateDirectories: true)
        try await BenchFSSystem.run(
            BackgroundProcess.currentExecutable(), ["layout", "set", "--dir", bed.path, "/\(name)", "--codec", codec, "--layout", layout])
        return name
    }

    /// The sequential reads once more with storage0's (first) link down from half-way.
    private func runCutLink(jobs: BenchPaperJobs, state: TestbedState, mounts: [String], report: BenchPaperReport) async throws -> BenchPaperReport.CutLink {
        let layout = chosenLayouts[0]
        let clients = chosenClients.max() ?? 1
        let host = state.plan.hosts(.storage)[0]
        _ = try await jobs.run(.sequentialWrite, in: Self.directories(mounts, under: "paper-\(layout)/cut-link", clients: clients, after: .sequentialWrite))
        let directories = Self.directories(mounts, under: "paper-\(layout)/cut-link", clients: clients, after: .sequentialRead)
        // Half of what the same reads took without a cut (from the slowest thread's rate).
        let before = report.results.first { $0.layout == layout && $0.clients == clients && $0.test == .sequentialRead }
        let seconds = before.map { Double(chosenFileSize) / 1e6 / max($0.minimum, 1) / 2 } ?? 2
        var cut = BenchPaperReport.CutLink(layout: layout, clients: clients, host: host.name, afterSeconds: seconds)
        defer { try? TestbedNetwork.setLink(host.links[0], of: host, up: true) }
        do {
            let rates = try await jobs.run(.sequentialRead, in: directories) {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                try TestbedNetwork.setLink(host.links[0], of: host, up: false)
            }
            cut.result = BenchPaperResult(layout: layout, clients: clients, test: .sequentialRead, threadMBps: rates)
        } catch {
            cut.error = "\(error)"
        }
        try? FileManager.default.removeItem(atPath: "\(mounts[0])/paper-\(layout)/cut-link")
        return cut
    }

    /// Prints the table and writes it, the JSON report and the plots to --output.
    private func publish(_ report: BenchPaperReport) async throws {
        let directory = URL(fileURLWithPath: output).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = [report.header, report.table, report.boundTable, report.cutLinkLine ?? ""].filter { !$0.isEmpty }.joined(separator: "\n\n") + "\n"
        print("\n" + text)
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory)/table.md"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: "\(directory)/report.json"))
        let images = try await BenchPaperPlots(report: report).write(to: directory)
        print("Written: \(directory)/table.md, \(directory)/report.json" + images.map { ", \($0)" }.joined())
    }
}
