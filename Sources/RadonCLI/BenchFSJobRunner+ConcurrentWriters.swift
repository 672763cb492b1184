import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension BenchFSJobRunner {
    /// The concurrent writers' figures: every writer's bytes over the time until the last one
    /// was done, and the slowest writer's own rate (MB/s, 10^6 bytes per second).
    struct ConcurrentWriters: Equatable {
        var total: Double
        var slowest: Double
    }

    /// Issue 15's concurrent-writers job, after the RozoFS paper's: `concurrentWritersPerMount`
    /// threads on each of `directories` (mounts of one file system, each its own client), every
    /// thread writing a file of its own sequentially, 1 MiB requests, all started together (one
    /// fio run, a job section per mount), each ending with its fsync. The files are removed
    /// afterwards, outside the timing. `bench fs` runs it after the other jobs' repetitions,
    /// once the target's other mounts are up (`BenchFSTarget.addMounts`).
    func runConcurrentWriters(in directories: [String]) async throws -> ConcurrentWriters {
        try BenchFSSystem.checkInterruption()
        let subdirectory = "bench-concurrent-writers"
        let shared = "\(directories[0])/\(subdirectory)"
        try? FileManager.default.removeItem(atPath: shared)
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        try BenchFSSystem.dropCaches(syncing: shared)

        let reportPath = "/tmp/radonfs-bench-concurrent-\(getpid()).json"
        defer { unlink(reportPath) }
        var arguments = [
            "--rw=write", "--bs=\(settings.sequentialRequestSize)", "--size=\(settings.concurrentFileSize)",
            "--ioengine=psync", "--direct=0", "--fallocate=none", "--end_fsync=1",
            "--output-format=json", "--output=\(reportPath)",
        ]
        for (index, directory) in directories.enumerated() {
            arguments += ["--name=mount\(index)", "--directory=\(directory)/\(subdirectory)", "--numjobs=\(settings.concurrentWritersPerMount)"]
        }
        try await BenchFSSystem.run("fio", arguments)
        guard let data = FileManager.default.contents(atPath: reportPath) else {
            throw CLIError("fio wrote no report for the concurrent writers")
        }
        let report: FioReport
        do {
            report = try JSONDecoder().decode(FioReport.self, from: data)
        } catch {
            throw CLIError("cannot read fio's report for the concurrent writers: \(error)")
        }
        let writers = try Self.concurrentWriters(in: report, expecting: directories.count * settings.concurrentWritersPerMount)
        log("  concurrent writes: \(BenchFSTable.format(writers.total)) MB/s in total, "
            + "the slowest writer \(BenchFSTable.format(writers.slowest)) MB/s")
        return writers
    }

    /// The figures of a fio report with one job per writer (no group reporting). Fails when a
    /// writer is missing, failed, or measured no time.
    static func concurrentWriters(in report: FioReport, expecting writerCount: Int) throws -> ConcurrentWriters {
        guard report.jobs.count == writerCount else {
            throw CLIError("fio reported \(report.jobs.count) concurrent writers, \(writerCount) were started")
        }
        var bytes = 0
        var longest = 0
        var slowest = Double.infinity
        for job in report.jobs {
            guard job.error == 0 else { throw CLIError("a concurrent writer failed with error \(job.error)") }
            guard job.write.runtime > 0 else { throw CLIError("a concurrent writer measured no time") }
            bytes += job.write.io_bytes
            longest = max(longest, job.write.runtime)
            slowest = min(slowest, Double(job.write.io_bytes) / (Double(job.write.runtime) / 1000) / 1e6)
        }
        return ConcurrentWriters(total: Double(bytes) / (Double(longest) / 1000) / 1e6, slowest: slowest)
    }
}
