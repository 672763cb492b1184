import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// What the benchmark measures, in the order the table lists it.
enum BenchFSMetric: String, CaseIterable, Codable, Sendable {
    case sequentialWrite = "seq-write"
    case sequentialRead = "seq-read"
    case randomRead = "rand-read"
    case randomWrite = "rand-write"
    case concurrentWrite = "concurrent-write"
    case slowestConcurrentWriter = "concurrent-write-slowest"
    case create
    case stat
    case delete

    var label: String {
        switch self {
        case .sequentialWrite: "seq write 1 MiB"
        case .sequentialRead: "seq read 1 MiB"
        case .randomRead: "rand read 4 KiB"
        case .randomWrite: "rand write 4 KiB"
        case .concurrentWrite: "concurrent writes"
        case .slowestConcurrentWriter: "slowest writer"
        case .create: "create small files"
        case .stat: "stat small files"
        case .delete: "delete small files"
        }
    }

    var unit: String {
        switch self {
        case .sequentialWrite, .sequentialRead, .concurrentWrite, .slowestConcurrentWriter: "MB/s"
        case .randomRead, .randomWrite: "IOPS"
        case .create, .stat, .delete: "files/s"
        }
    }

    /// The factor over GlusterFS that issue 4 asks of RadonFS (issue 15: 2x for the total of
    /// the concurrent writers).
    var goalOverGlusterFS: Double {
        self == .sequentialRead ? 1.5 : 2
    }

    /// A rate RadonFS must reach whatever the others do, where the goal is one: issue 15 (after
    /// the RozoFS paper, a ProRes 422 stream) asks 25 MB/s of every concurrent writer. The
    /// verdict of such a row is against it, not against GlusterFS.
    var absoluteGoal: Double? {
        self == .slowestConcurrentWriter ? 25 : nil
    }
}

/// The shape of every job, identical on all targets.
struct BenchFSJobSettings: Codable, Sendable {
    /// Size of the one big file written then read sequentially and at random.
    var fileSize: Int
    var sequentialRequestSize = 1 << 20
    var randomRequestSize = 4096
    /// Seconds each random job runs (fio `time_based`).
    var randomRuntime: Int
    /// fio `numjobs` for the random jobs: threads issuing synchronous I/O at once to the one file.
    var randomThreads: Int
    var smallFileCount: Int
    var smallFileSize: Int
    /// Where to put `perf record` output for the profiled process, if asked.
    var profileDirectory: String?
    /// Mounts of the one file system the concurrent writers share (the target's own and
    /// `concurrentMounts - 1` more); 0 skips the job.
    var concurrentMounts = 0
    /// Writer threads per mount, each writing a file of its own sequentially.
    var concurrentWritersPerMount = 5
    /// Bytes each concurrent writer writes.
    var concurrentFileSize = 256 << 20
}

/// Runs the jobs on one target's directory and turns their output into one number per metric.
///
/// The big-file jobs are fio (`ioengine=psync`, `direct=0`, `fallocate=none`, writes with
/// `end_fsync=1` so the flush is inside the measured time, caches dropped before reads). The
/// small-file job is done here, one thread of plain system calls, which costs microseconds per
/// file and so is never the bottleneck of a mount.
struct BenchFSJobRunner {
    var settings: BenchFSJobSettings
    /// Called with a line of progress for the user.
    var log: (String) -> Void

    /// What one repetition measured: a value per metric, and for the sequential jobs the CPU
    /// seconds the serving processes used per GiB moved.
    struct Repetition {
        var values: [BenchFSMetric: Double] = [:]
        var cpuSecondsPerGiB: [BenchFSMetric: Double] = [:]
    }

    /// One repetition of every job in `directory` but the concurrent writers
    /// (`runConcurrentWriters`, which need more mounts), the small-file job only if
    /// `smallFiles`; `profiledProcess` is recorded with perf during the sequential jobs when a
    /// profile directory was given; `servingProcesses` are the processes whose CPU time is
    /// counted.
    func runRepetition(
        in directory: String, smallFiles: Bool, profiledProcess: pid_t?, profileName: String?,
        servingProcesses: () -> [pid_t]
    ) async throws -> Repetition {
        var repetition = Repetition()
        let bigFile = "\(directory)/bench-big-file"
        unlink(bigFile)
        try BenchFSSystem.dropCaches(syncing: directory)
        let gibibytes = Double(settings.fileSize) / Double(1 << 30)

        let write = try await BenchFSProcessCPU.measuring(servingProcesses) {
            try await profiling(profiledProcess, as: profileName.map { "\($0)-seq-write" }) {
                try await fio(name: "seq-write", file: bigFile, ["--rw=write", "--bs=\(settings.sequentialRequestSize)", "--end_fsync=1"])
                    .bytesPerSecond(\.write) / 1e6
            }
        }
        repetition.values[.sequentialWrite] = write.value
        repetition.cpuSecondsPerGiB[.sequentialWrite] = write.cpuSeconds.map { $0 / gibibytes }
        log("  seq write: \(BenchFSTable.format(write.value))  MB/s" + Self.cpuText(repetition.cpuSecondsPerGiB[.sequentialWrite]))

        try BenchFSSystem.dropCaches(syncing: directory)
        let read = try await BenchFSProcessCPU.measuring(servingProcesses) {
            try await profiling(profiledProcess, as: profileName.map { "\($0)-seq-read" }) {
                try await fio(name: "seq-read", file: bigFile, ["--rw=read", "--bs=\(settings.sequentialRequestSize)"])
                    .bytesPerSecond(\.read) / 1e6
            }
        }
        repetition.values[.sequentialRead] = read.value
        repetition.cpuSecondsPerGiB[.sequentialRead] = read.cpuSeconds.map { $0 / gibibytes }
        log("  seq read: \(BenchFSTable.format(read.value)) MB/s" + Self.cpuText(repetition.cpuSecondsPerGiB[.sequentialRead]))
        var results = repetition.values

        try BenchFSSystem.dropCaches(syncing: directory)
        results[.randomRead] = try await fio(name: "rand-read", file: bigFile, randomArguments(["--rw=randread"])).iops(\.read)
        log("  rand read: \(BenchFSTable.format(results[.randomRead])) IOPS")

        try BenchFSSystem.dropCaches(syncing: directory)
        results[.randomWrite] = try await fio(name: "rand-write", file: bigFile, randomArguments(["--rw=randwrite", "--end_fsync=1"]))
            .iops(\.write)
        log("  rand write: \(BenchFSTable.format(results[.randomWrite])) IOPS")
        unlink(bigFile)

        guard smallFiles else { repetition.values = results; return repetition }
        results.merge(try runSmallFiles(in: "\(directory)/bench-small-files")) { _, new in new }
        log("  small files: create \(BenchFSTable.format(results[.create])), stat \(BenchFSTable.format(results[.stat])), delete \(BenchFSTable.format(results[.delete])) files/s")
        repetition.values = results
        return repetition
    }

    private static func cpuText(_ secondsPerGiB: Double?) -> String {
        secondsPerGiB.map { ", " + BenchFSTable.format($0) + " CPU s/GiB" } ?? ""
    }

    private func randomArguments(_ pattern: [String]) -> [String] {
        pattern + [
            "--bs=\(settings.randomRequestSize)", "--numjobs=\(settings.randomThreads)", "--group_reporting",
            "--time_based", "--runtime=\(settings.randomRuntime)", "--randrepeat=0",
        ]
    }

    // MARK: fio

    /// What fio reports for one direction of a (group-reported) job.
    struct FioDirection: Decodable {
        var io_bytes: Int
        /// Milliseconds, including the final fsync when `end_fsync` is set.
        var runtime: Int
        var iops: Double
    }

    struct FioReport: Decodable {
        struct Job: Decodable {
            var error: Int
            var read: FioDirection
            var write: FioDirection
        }
        var jobs: [Job]

        func bytesPerSecond(_ direction: KeyPath<Job, FioDirection>) throws -> Double {
            let measured = try job[keyPath: direction]
            guard measured.runtime > 0 else { throw CLIError("fio measured no time") }
            return Double(measured.io_bytes) / (Double(measured.runtime) / 1000)
        }

        func iops(_ direction: KeyPath<Job, FioDirection>) throws -> Double {
            try job[keyPath: direction].iops
        }

        private var job: Job {
            get throws {
                guard let job = jobs.first else { throw CLIError("fio reported no job") }
                guard job.error == 0 else { throw CLIError("fio job failed with error \(job.error)") }
                return job
            }
        }
    }

    private func fio(name: String, file: String, _ arguments: [String]) async throws -> FioReport {
        try BenchFSSystem.checkInterruption()
        let reportPath = "\(file).\(name).json"
        defer { unlink(reportPath) }
        let common = [
            "--name=\(name)", "--filename=\(file)", "--size=\(settings.fileSize)", "--ioengine=psync",
            "--direct=0", "--fallocate=none", "--output-format=json", "--output=\(reportPath)",
        ]
        try await BenchFSSystem.run("fio", common + arguments)
        guard let data = FileManager.default.contents(atPath: reportPath) else {
            throw CLIError("fio wrote no report for \(name)")
        }
        do {
            return try JSONDecoder().decode(FioReport.self, from: data)
        } catch {
            throw CLIError("cannot read fio's report for \(name): \(error)")
        }
    }

    // MARK: small files

    /// Creates (with `smallFileSize` bytes each), stats, then deletes `smallFileCount` files in
    /// one directory. Create and delete end with an fsync of the directory inside the timing, so
    /// a target cannot win by leaving the work in memory; caches are dropped before the stats,
    /// so every target has to look each file up again.
    private func runSmallFiles(in directory: String) throws -> [BenchFSMetric: Double] {
        try BenchFSSystem.checkInterruption()
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let names = (0..<settings.smallFileCount).map { String(format: "%@/file-%05d", directory, $0) }
        let content = [UInt8](repeating: 0x5A, count: settings.smallFileSize)
        try BenchFSSystem.dropCaches(syncing: directory)

        let createTime = try timed {
            for name in names {
                let descriptor = open(name, O_CREAT | O_EXCL | O_WRONLY, 0o644)
                guard descriptor >= 0 else { throw systemError("create", name) }
                defer { close(descriptor) }
                if !content.isEmpty {
                    let written = content.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                    guard written == content.count else { throw systemError("write", name) }
                }
            }
            try BenchFSSystem.fsyncDirectory(directory)
        }
        try BenchFSSystem.checkInterruption()
        try BenchFSSystem.dropCaches(syncing: directory)

        let statTime = try timed {
            var information = stat()
            for name in names {
                guard lstat(name, &information) == 0 else { throw systemError("stat", name) }
                guard Int(information.st_size) == content.count else {
                    throw CLIError("\(name) has \(information.st_size) bytes, \(content.count) were written")
                }
            }
        }
        try BenchFSSystem.checkInterruption()

        let deleteTime = try timed {
            for name in names {
                guard unlink(name) == 0 else { throw systemError("delete", name) }
            }
            try BenchFSSystem.fsyncDirectory(directory)
        }
        rmdir(directory)
        let count = Double(names.count)
        return [.create: count / createTime, .stat: count / statTime, .delete: count / deleteTime]
    }

    private func timed(_ work: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try work()
        return max((ContinuousClock.now - start).seconds, 1e-9)
    }

    private func systemError(_ operation: String, _ path: String) -> CLIError {
        CLIError("\(operation) \(path): \(String(cString: strerror(errno)))")
    }

    // MARK: profiling

    /// Runs `work` while `perf record -g` samples `process`, then writes a flat
    /// `perf report --stdio --no-children` (symbols by self time) beside the raw data; the call
    /// graphs stay in the .perf.data file.
    private func profiling<T>(_ process: pid_t?, as name: String?, _ work: () async throws -> T) async throws -> T {
        guard let process, let name, let profileDirectory = settings.profileDirectory else { return try await work() }
        try FileManager.default.createDirectory(atPath: profileDirectory, withIntermediateDirectories: true)
        let data = "\(profileDirectory)/\(name).perf.data"
        let recorder = try BenchFSSystem.start(
            "perf", ["record", "-g", "-p", "\(process)", "-o", data], logPath: "\(profileDirectory)/\(name).perf.log"
        )
        try await Task.sleep(for: .milliseconds(500))
        let result: Result<T, any Error>
        do {
            result = .success(try await work())
        } catch {
            result = .failure(error)
        }
        await BackgroundProcess.stop([recorder], grace: .seconds(60))
        BackgroundProcess.reapIfExited(recorder)
        let report = try? await BenchFSSystem.run("perf", ["report", "--stdio", "--no-children", "-g", "none", "--percent-limit", "0.5", "-i", data], mustSucceed: false)
        _ = FileManager.default.createFile(atPath: "\(profileDirectory)/\(name).txt", contents: Data((report?.output ?? "").utf8))
        log("  profile: \(profileDirectory)/\(name).txt")
        return try result.get()
    }
}
