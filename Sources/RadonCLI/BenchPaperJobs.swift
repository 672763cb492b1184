import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs one access pattern on several client mounts at once, `threads` fio jobs per mount, each
/// job on its own file (fio's `paper.N.0` in the client's directory), and returns every
/// thread's MB/s. Sequential jobs read or write their whole file; random ones run for a fixed
/// time. fio as `bench fs` runs it: `ioengine=psync`, `direct=0`, writes with `end_fsync=1` so
/// the flush is inside the measured time, the kernel's caches dropped before reads.
struct BenchPaperJobs {
    var threads: Int
    var fileSize: Int
    var randomRequestSize: Int
    var randomRuntime: Int

    /// Starts the fio of each directory (one per client mount), waits for all, and returns the
    /// MB/s of every thread. `whileRunning` runs once every fio has started (the cut-link run).
    func run(_ test: BenchPaperTest, in directories: [String], whileRunning: () async throws -> Void = {}) async throws -> [Double] {
        try BenchFSSystem.checkInterruption()
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if !test.writes { try BenchFSSystem.dropCaches(syncing: directory) }
        }
        var started: [(pid: pid_t, report: String, log: String)] = []
        defer { for job in started { unlink(job.report); unlink(job.log) } }
        for (index, directory) in directories.enumerated() {
            let report = "\(NSTemporaryDirectory())/radonfs-paper-\(getpid())-\(index)-\(test.rawValue).json"
            let log = report + ".log"
            unlink(report)
            started.append((try BenchFSSystem.start("fio", arguments(test, directory: directory, report: report), logPath: log), report, log))
        }
        var sideError: (any Error)?
        do { try await whileRunning() } catch { sideError = error }
        var rates: [Double] = []
        var failures: [String] = []
        for (job, directory) in zip(started, directories) {
            let status = await BenchFSSystem.waitForExit(job.pid)
            do {
                guard status == 0 else {
                    throw CLIError("fio exited \(status): \(BackgroundProcess.lastLines(of: job.log, count: 5))")
                }
                rates += try Self.threadRates(reportAt: job.report, writes: test.writes)
            } catch {
                failures.append("\(directory): \(error)")
            }
        }
        if let sideError { throw sideError }
        guard failures.isEmpty else { throw CLIError("\(test.label) failed on \(failures.joined(separator: "; "))") }
        return rates
    }

    /// The fio command line of one client's threads. Every pattern has the job name `paper`, so
    /// the reads find the files the sequential write made.
    func arguments(_ test: BenchPaperTest, directory: String, report: String) -> [String] {
        var arguments = [
            "--name=paper", "--directory=\(directory)", "--numjobs=\(threads)", "--size=\(fileSize)", "--rw=\(test.fioPattern)",
            "--ioengine=psync", "--direct=0", "--fallocate=none", "--output-format=json", "--output=\(report)",
        ]
        if test.writes { arguments.append("--end_fsync=1") }
        if test.isSequential {
            arguments.append("--bs=\(1 << 20)")
        } else {
            arguments += ["--bs=\(randomRequestSize)", "--time_based", "--runtime=\(randomRuntime)", "--randrepeat=0"]
        }
        return arguments
    }

    /// Each job's MB/s (10^6 bytes per second) from a fio JSON report.
    static func threadRates(reportAt path: String, writes: Bool) throws -> [Double] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("fio wrote no report at \(path)") }
        let report: BenchFSJobRunner.FioReport
        do {
            report = try JSONDecoder().decode(BenchFSJobRunner.FioReport.self, from: data)
        } catch {
            throw CLIError("cannot read fio's report \(path): \(error)")
        }
        guard !report.jobs.isEmpty else { throw CLIError("fio reported no job in \(path)") }
        return try report.jobs.map { job in
            guard job.error == 0 else { throw CLIError("a fio thread failed with error \(job.error)") }
            let direction = writes ? job.write : job.read
            guard direction.runtime > 0 else { throw CLIError("a fio thread measured no time") }
            return Double(direction.io_bytes) / (Double(direction.runtime) / 1000) / 1e6
        }
    }
}
