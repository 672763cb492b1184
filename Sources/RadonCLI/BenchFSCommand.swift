import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs bench fs`: the same fio jobs and small-file work, in one run, on RadonFS, on a
/// GlusterFS dispersed volume of the same layout, and on the local disk as the limit, printed
/// side by side with RadonFS's ratios against the goals of issue 4.
struct BenchFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fs",
        abstract: "Benchmark the RadonFS mount against GlusterFS (disperse), JuiceFS and the local disk.",
        discussion: """
            Every target is set up first; then each repetition runs every target's jobs in turn, so a \
            machine that gets busier or quieter during the run weighs on all targets alike; last, each \
            target's concurrent writers run and it is torn down. All on this machine and on the \
            file system that holds --work-dir: RadonFS with `radonfs up --nodes n --layout k+m --mount`, \
            GlusterFS with glusterd, a disperse n redundancy m volume of n bricks and `mount -t glusterfs`, \
            JuiceFS (with --targets juicefs) formatted with SQLite metadata and a local directory as its \
            object store, and a plain directory. Jobs: sequential write then read of one file with 1 MiB requests, \
            random 4 KiB reads then writes on it (fio, psync, direct=0, end_fsync=1 on writes, caches \
            dropped before reads), concurrent writers (--writers threads on each of --mounts mounts of \
            the same file system, a file each: their total rate and the slowest one's), then creating, \
            stat-ing and deleting many small files. Needs root \
            (drop_caches, mount), fio, and for GlusterFS and JuiceFS `scripts/install-dependencies.sh --bench`.
            """
    )

    @Option(help: "Comma-separated targets to measure, from radonfs, radonfs-pg (PostgreSQL with a standby and two metadata servers), radonfs-insecure (plaintext instead of mutual TLS), glusterfs, juicefs (SQLite metadata, a local directory as object store, one copy), local.")
    var targets = "radonfs,glusterfs,local"

    @Option(help: "Size of the file for the sequential and random jobs (e.g. 1GiB, 256MiB).")
    var size = "1GiB"

    @Option(help: "Seconds each random job runs.")
    var runtime = 20

    @Option(help: "Threads (fio numjobs) issuing the random 4 KiB requests at once.")
    var threads = 4

    @Option(help: "How many small files to create, stat and delete.")
    var files = 10_000

    @Option(help: "Bytes written into each small file (e.g. 4KiB; 0 for empty files).")
    var fileSize = "4KiB"

    @Option(help: "Repetitions of every job per target; the table shows medians.")
    var repetitions = 3

    @Option(help: "How many of the repetitions also run the small-file job (GlusterFS takes minutes per 10,000 files here; default: all).")
    var fileRepetitions: Int?

    @Option(help: "Mounts of each target for the concurrent-writers job (its own and more, each a client of its own; 0 skips the job).")
    var mounts = 3

    @Option(help: "Writer threads per mount in the concurrent-writers job, each on a file of its own.")
    var writers = 5

    @Option(help: "Bytes each concurrent writer writes (e.g. 256MiB).")
    var writerSize = "256MiB"

    @Option(help: "Erasure-code layout k+m for RadonFS and GlusterFS (n = k+m nodes or bricks).")
    var layout = "4+2"

    @Option(help: "Directory for bricks, storage directories, mounts and the local target (default: a new one under /tmp).")
    var workDir: String?

    @Option(help: "Record `perf record -g` of the RadonFS mount process during the sequential jobs of the first repetition into this directory.")
    var profile: String?

    @Option(name: .customLong("up-argument"), help: "An extra argument for `radonfs up` (repeat for several).")
    var upArguments: [String] = []

    @Flag(help: "A smoke run: 64 MiB file, 3 s random jobs, 32 MiB per concurrent writer, 500 files, one repetition.")
    var quick = false

    @Flag(help: "Print the report as JSON instead of the table.")
    var json = false

    @Option(help: "Also write the JSON report to this file.")
    var saveJSON: String?

    func validate() throws {
        guard repetitions >= 1, runtime >= 1, threads >= 1, files >= 1, (fileRepetitions ?? 1) >= 1 else {
            throw ValidationError("--repetitions, --file-repetitions, --runtime, --threads and --files must be at least 1")
        }
        guard (ByteCount.parse(size) ?? 0) >= 1 << 20 else { throw ValidationError("--size must be at least 1MiB") }
        guard (0...8).contains(mounts), (1...64).contains(writers) else {
            throw ValidationError("--mounts must be 0 to 8 and --writers 1 to 64")
        }
        guard (ByteCount.parse(writerSize) ?? 0) >= 1 << 20 else { throw ValidationError("--writer-size must be at least 1MiB") }
        guard ByteCount.parse(fileSize) != nil else { throw ValidationError("--file-size: cannot read \(fileSize)") }
        _ = try parsedLayout()
        _ = try selectedTargetKeys()
    }

    func run() async throws {
        guard geteuid() == 0 else { throw CLIError("radonfs bench fs must run as root (drop_caches, mount, glusterd)") }
        guard BenchFSSystem.isInstalled("fio") else { throw CLIError("fio is missing; run `scripts/install-dependencies.sh --bench`") }
        BenchFSSystem.catchInterruptions()
        let loadAtStart = Self.loadAverage()

        let (dataFragments, fragments) = try parsedLayout()
        let settings = BenchFSJobSettings(
            fileSize: quick ? 64 << 20 : ByteCount.parse(size) ?? 1 << 30,
            randomRuntime: quick ? 3 : runtime,
            randomThreads: threads,
            smallFileCount: quick ? 500 : files,
            smallFileSize: ByteCount.parse(fileSize) ?? 4096,
            profileDirectory: profile.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            concurrentMounts: mounts,
            concurrentWritersPerMount: writers,
            concurrentFileSize: quick ? 32 << 20 : ByteCount.parse(writerSize) ?? 256 << 20
        )
        let rounds = quick ? 1 : repetitions
        let fileRounds = min(rounds, fileRepetitions ?? rounds)
        let workDirectory = try makeWorkDirectory()
        let runner = BenchFSJobRunner(settings: settings) { progress($0) }

        let targets = try makeTargets(workDirectory: workDirectory, dataFragments: dataFragments, fragments: fragments)
        let results = await measure(targets, rounds: rounds, fileRounds: fileRounds, runner: runner)

        var report = BenchFSReport(
            date: ISO8601DateFormatter().string(from: Date()),
            machine: Self.machine(loadAtStart: loadAtStart),
            command: CommandLine.arguments.joined(separator: " "),
            settings: settings,
            dataFragments: dataFragments,
            fragments: fragments,
            repetitions: rounds,
            smallFileRepetitions: fileRounds,
            targets: results
        )
        report.compare()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let encoded = try encoder.encode(report)
        if let saveJSON {
            guard FileManager.default.createFile(atPath: saveJSON, contents: encoded) else {
                throw CLIError("cannot write \(saveJSON)")
            }
        }
        if json {
            print(String(decoding: encoded, as: UTF8.self))
        } else {
            print(BenchFSTable.render(report))
        }
        fflush(nil)  // the table before the slow removal below, even when stdout is a file
        removeData(of: targets, workDirectory: workDirectory)
        if benchFSInterruption.load(ordering: .relaxed) { throw ExitCode(130) }
        if results.contains(where: { $0.error != nil }) { throw ExitCode.failure }
    }

    /// A target while it is measured: its results so far and, once it is up, where its jobs run.
    private struct TargetRun {
        let target: any BenchFSTarget
        var result: BenchFSReport.TargetResult
        /// Whether its set-up ran (even if it failed half-way: a tear-down is owed).
        var isStarted = false
        var directory: String?

        /// Up, and nothing has failed on it yet.
        var isMeasurable: Bool { directory != nil && result.error == nil }
    }

    /// Records why `run` stops being measured (its later jobs are skipped; it is still torn down).
    private func fail(_ run: inout TargetRun, _ error: any Error) {
        run.result.error = "\(error)"
        progress("\(run.target.title): failed: \(error)")
    }

    /// Sets every target up, runs the repetitions round the targets (repetition 1 of each, then
    /// 2 of each, ...), then each target's concurrent writers, and tears every target down
    /// whatever happened. Interleaved, a machine whose load drifts during the run (shared hosts
    /// swing by a fifth within minutes) drifts under every target alike, so the ratios between
    /// targets stay fair. A failure is kept in its target's result; the others go on.
    func measure(_ targets: [any BenchFSTarget], rounds: Int, fileRounds: Int, runner: BenchFSJobRunner) async -> [BenchFSReport.TargetResult] {
        var runs = targets.map { TargetRun(target: $0, result: BenchFSReport.TargetResult(key: $0.key, title: $0.title)) }
        var interrupted: Bool { benchFSInterruption.load(ordering: .relaxed) }
        for index in runs.indices where !interrupted {
            progress("\(runs[index].target.title): setting up")
            runs[index].isStarted = true
            do { runs[index].directory = try await runs[index].target.setUp() } catch { fail(&runs[index], error) }
        }
        for round in 1...rounds where !interrupted {
            for index in runs.indices where runs[index].isMeasurable && !interrupted {
                await runRepetition(round, of: rounds, fileRounds: fileRounds, on: &runs[index], runner: runner)
            }
        }
        for index in runs.indices {
            if runs[index].isMeasurable, !interrupted {
                await runConcurrentWriters(rounds: rounds, on: &runs[index], runner: runner)
            }
            if runs[index].isStarted {
                progress("\(runs[index].target.title): tearing down")
                await runs[index].target.tearDown()
            }
            runs[index].result.medians = runs[index].result.samples.mapValues(Self.median)
            runs[index].result.cpuMedians = runs[index].result.cpuSamples.mapValues(Self.median)
        }
        return runs.map(\.result)
    }

    /// One repetition of every job but the concurrent writers on one target.
    private func runRepetition(_ round: Int, of rounds: Int, fileRounds: Int, on run: inout TargetRun, runner: BenchFSJobRunner) async {
        guard let directory = run.directory else { return }
        let target = run.target
        progress("\(target.title): repetition \(round) of \(rounds) in \(directory)")
        do {
            let repetition = try await runner.runRepetition(
                in: directory, smallFiles: round <= fileRounds,
                profiledProcess: target.profiledProcess, profileName: round == 1 ? target.key : nil,
                servingProcesses: { target.servingProcesses() }
            )
            for (metric, value) in repetition.values { run.result.samples[metric.rawValue, default: []].append(value) }
            for (metric, value) in repetition.cpuSecondsPerGiB { run.result.cpuSamples[metric.rawValue, default: []].append(value) }
        } catch {
            fail(&run, error)
        }
    }

    /// The concurrent writers, every repetition of them, with the target's other mounts up only
    /// for this job: a second client of the same volume must not weigh on the other jobs
    /// (JuiceFS's clients, for one, share one SQLite file and wait on each other's locks).
    private func runConcurrentWriters(rounds: Int, on run: inout TargetRun, runner: BenchFSJobRunner) async {
        let mounts = runner.settings.concurrentMounts
        guard mounts > 0, let directory = run.directory else { return }
        let target = run.target
        do {
            progress("\(target.title): \(mounts - 1) more mount(s) for the concurrent writers")
            let directories = try await [directory] + target.addMounts(mounts - 1)
            for round in 1...rounds {
                progress("\(target.title): concurrent writers, repetition \(round) of \(rounds)")
                let writers = try await runner.runConcurrentWriters(in: directories)
                run.result.samples[BenchFSMetric.concurrentWrite.rawValue, default: []].append(writers.total)
                run.result.samples[BenchFSMetric.slowestConcurrentWriter.rawValue, default: []].append(writers.slowest)
            }
        } catch {
            fail(&run, error)
        }
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Deletes every target's data once all are measured; never through a mount that failed to
    /// go away (that would delete inside the file system, or hang on a dead one).
    private func removeData(of targets: [any BenchFSTarget], workDirectory: String) {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        let mountPoints = mounts.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        for target in targets {
            let directory = target.dataDirectory
            if let busy = mountPoints.first(where: { $0 == directory || $0.hasPrefix(directory + "/") }) {
                progress("\(target.title): left \(directory) in place, \(busy) is still mounted")
                continue
            }
            progress("\(target.title): removing \(directory)")
            try? FileManager.default.removeItem(atPath: directory)
        }
        if workDir == nil { rmdir(workDirectory) }
    }

    private func makeTargets(workDirectory: String, dataFragments: Int, fragments: Int) throws -> [any BenchFSTarget] {
        try selectedTargetKeys().map { key -> any BenchFSTarget in
            switch key {
            case let key where BenchFSRadonFSTarget.Variant(rawValue: key) != nil:
                BenchFSRadonFSTarget(
                    workDirectory: workDirectory, dataFragments: dataFragments, fragments: fragments,
                    engine: BenchFSRadonFSTarget.Variant(rawValue: key)!, extraArguments: upArguments)
            case "glusterfs":
                BenchFSGlusterFSTarget(workDirectory: workDirectory, dataFragments: dataFragments, fragments: fragments)
            case "juicefs":
                BenchFSJuiceFSTarget(workDirectory: workDirectory)
            default:
                BenchFSLocalTarget(workDirectory: workDirectory)
            }
        }
    }

    private func selectedTargetKeys() throws -> [String] {
        let keys = targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = BenchFSRadonFSTarget.Variant.allCases.map(\.rawValue) + ["glusterfs", "juicefs", "local"]
        guard !keys.isEmpty else { throw ValidationError("--targets lists no target") }
        for key in keys where !known.contains(key) {
            throw ValidationError("--targets: unknown target \(key) (known: \(known.joined(separator: ", ")))")
        }
        return keys
    }

    private func parsedLayout() throws -> (dataFragments: Int, fragments: Int) {
        let parts = layout.split(separator: "+").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 1, parts[1] >= 1 else {
            throw ValidationError("--layout must be k+m, e.g. 4+2")
        }
        return (parts[0], parts[0] + parts[1])
    }

    private func makeWorkDirectory() throws -> String {
        if let workDir {
            let path = URL(fileURLWithPath: workDir).standardizedFileURL.path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }
        var template = Array("/tmp/radonfs-bench-fs-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CLIError("cannot make a work directory under /tmp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }

    private static func machine(loadAtStart: Double) -> BenchFSReport.Machine {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return BenchFSReport.Machine(
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: Int((Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)).rounded()),
            kernel: release,
            loadAtStart: loadAtStart,
            loadAtEnd: loadAverage()
        )
    }
}
