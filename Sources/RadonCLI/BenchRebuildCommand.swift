import ArgumentParser
import Foundation
import RadonCodec

/// `radonfs bench rebuild`: how fast a lost node's data is rebuilt as the cluster grows, next to
/// the raw sequential read rate of the disk, and how much a rebuild slows foreground I/O.
struct BenchRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Measure rebuild throughput for several cluster sizes, against the disk's read rate, and its cost to foreground I/O.",
        discussion: """
            For each node count (default 6, 9 and 12 storage daemons, 4+2), starts a local cluster \
            in a scratch directory, writes a data set through the client, drops the kernel's caches \
            and runs `node remove` on one node: its group positions move to spares and every \
            surviving node rebuilds groups in parallel. The time from the command to the last job \
            done gives the rebuild rate (MB of fragments written per second). With 6 nodes a 4+2 \
            group already spans every node, so one empty spare daemon is started to take the \
            positions. Then foreground I/O (one file written, one read, fresh client, caches \
            dropped) is timed on the quiet cluster and again during a second `node remove`. The \
            raw sequential read rate of the disk under the scratch directory (dd, caches dropped) \
            is measured once. Needs root (drop_caches). Progress goes to stderr.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Storage daemon counts, comma-separated.", valueName: "list"))
    var nodes: String = "6,9,12"

    @Option(name: .long, help: ArgumentHelp("Data set written before each rebuild (e.g. 512MiB).", valueName: "size"))
    var data: String = "512MiB"

    @Option(name: .customLong("file-size"), help: ArgumentHelp("Size of each data set file.", valueName: "size"))
    var fileSize: String = "8MiB"

    @Option(name: .customLong("block-size"), help: ArgumentHelp("Volume block size.", valueName: "size"))
    var blockSize: String = "1MiB"

    @Option(name: .long, help: ArgumentHelp("Foreground load: bytes written and bytes read, each.", valueName: "size"))
    var foreground: String = "64MiB"

    @Option(name: .long, help: ArgumentHelp("Rebuild rate limit per storage node, MB/s (0: unlimited).", valueName: "MB/s"))
    var rate: Double = 0

    @Option(name: .customLong("work-dir"), help: ArgumentHelp("Where the clusters and the disk test file go (default /tmp).", valueName: "dir"))
    var workDirectory: String = NSTemporaryDirectory()

    @Flag(name: .long, help: "Print the report as JSON instead of a table.")
    var json = false

    @Option(name: .customLong("json-file"), help: ArgumentHelp("Also write the JSON report to this file (the table still goes to stdout).", valueName: "path"))
    var jsonFile: String?

    func validate() throws {
        guard !nodeCounts.isEmpty, nodeCounts.allSatisfy({ $0 >= 6 && $0 <= 64 }) else {
            throw ValidationError("--nodes must list counts between 6 and 64 (4+2 needs 6), not \"\(nodes)\"")
        }
        for (name, text) in [("--data", data), ("--file-size", fileSize), ("--block-size", blockSize), ("--foreground", foreground)] {
            guard let size = ByteCount.parse(text), size > 0 else { throw ValidationError("\(name) must be a size like 64MiB, not \"\(text)\"") }
        }
        guard ByteCount.parse(blockSize)! % 4096 == 0 else { throw ValidationError("--block-size must be a multiple of 4 KiB") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 or more") }
    }

    var nodeCounts: [Int] { nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        let base = URL(fileURLWithPath: workDirectory).appendingPathComponent("radonfs-bench-rebuild-\(getpid())").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let loadAtStart = BenchRebuildReport.loadAverage()
        progress("measuring the disk's sequential read rate under \(base)")
        let disk = try await BenchRebuildDisk.sequentialReadRate(in: base)
        progress(String(format: "disk: %.0f MB/s sequential read (caches dropped)", disk))

        var results: [BenchRebuildReport.ClusterResult] = []
        for count in nodeCounts {
            let run = BenchRebuildRun(
                nodes: count, directory: "\(base)/cluster-\(count)", dataBytes: ByteCount.parse(data)!,
                fileSize: ByteCount.parse(fileSize)!, blockSize: ByteCount.parse(blockSize)!,
                foregroundBytes: ByteCount.parse(foreground)!, rateLimit: UInt64(rate * 1e6), progress: progress)
            results.append(try await run.measure())
        }
        var report = BenchRebuildReport(
            date: ISO8601DateFormatter().string(from: Date()),
            command: (["radonfs"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
            cores: ProcessInfo.processInfo.activeProcessorCount, loadAtStart: loadAtStart, loadAtEnd: 0,
            layout: "4+2", blockSize: ByteCount.parse(blockSize)!, dataBytes: ByteCount.parse(data)!,
            rateLimitMBps: rate, diskReadMBps: disk, clusters: results)
        report.loadAtEnd = BenchRebuildReport.loadAverage()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let encoded = try encoder.encode(report)
        if let jsonFile {
            guard FileManager.default.createFile(atPath: jsonFile, contents: encoded + Data("\n".utf8)) else {
                throw CLIError("cannot write \(jsonFile)")
            }
        }
        if json {
            print(String(decoding: encoded, as: UTF8.self))
        } else {
            print(BenchRebuildTable.render(report))
        }
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
