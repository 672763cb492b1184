import Foundation
@testable import RadonCLI
import Testing

/// `bench fs`'s concurrent writers (issue 15: 3 mounts x 5 threads, at least 2x GlusterFS in
/// total and 25 MB/s for every thread): the figures taken from fio's per-writer report, and
/// their rows and verdicts in the table.
@Suite("bench fs: concurrent writers")
struct BenchFSConcurrentWritersTests {
    /// fio's JSON for writers that each wrote `megabytes` (10^6 bytes) in `milliseconds`.
    static func fioReport(_ writers: [(megabytes: Int, milliseconds: Int, error: Int)]) throws -> BenchFSJobRunner.FioReport {
        let jobs = writers.map { writer in
            """
            {"jobname": "mount0", "error": \(writer.error),
             "read": {"io_bytes": 0, "runtime": 0, "iops": 0},
             "write": {"io_bytes": \(writer.megabytes * 1_000_000), "runtime": \(writer.milliseconds), "iops": 1.0}}
            """
        }
        let json = #"{"fio version": "fio-3.33", "jobs": ["# + jobs.joined(separator: ",") + "]}"
        return try JSONDecoder().decode(BenchFSJobRunner.FioReport.self, from: Data(json.utf8))
    }

    @Test("the total is every writer's bytes over the time of the last; the slowest is its own rate")
    func figuresFromTheReport() throws {
        // 100 MB in 2 s (50 MB/s), 100 MB in 4 s (25 MB/s), 60 MB in 3 s (20 MB/s): 260 MB in 4 s.
        let report = try Self.fioReport([(100, 2000, 0), (100, 4000, 0), (60, 3000, 0)])
        let figures = try BenchFSJobRunner.concurrentWriters(in: report, expecting: 3)
        #expect(figures == .init(total: 65, slowest: 20))
    }

    @Test("a writer missing, failed or without time fails the job instead of flattering it")
    func badReportsFail() throws {
        let three = try Self.fioReport([(100, 2000, 0), (100, 2000, 0), (100, 2000, 0)])
        #expect(throws: CLIError.self) { try BenchFSJobRunner.concurrentWriters(in: three, expecting: 15) }
        let failed = try Self.fioReport([(100, 2000, 0), (10, 2000, 5)])
        #expect(throws: CLIError.self) { try BenchFSJobRunner.concurrentWriters(in: failed, expecting: 2) }
        let timeless = try Self.fioReport([(100, 2000, 0), (0, 0, 0)])
        #expect(throws: CLIError.self) { try BenchFSJobRunner.concurrentWriters(in: timeless, expecting: 2) }
    }

    @Test("a real fio run: 2 directories x 2 writers, figures from fio's own report, the files removed after")
    func realRun() async throws {
        let directory = NSTemporaryDirectory() + "bench-concurrent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = BenchFSJobSettings(fileSize: 1 << 20, randomRuntime: 1, randomThreads: 1, smallFileCount: 1, smallFileSize: 1)
        settings.concurrentMounts = 2
        settings.concurrentWritersPerMount = 2
        settings.concurrentFileSize = 2 << 20
        let runner = BenchFSJobRunner(settings: settings) { _ in }
        let figures = try await runner.runConcurrentWriters(in: [directory, directory])
        #expect(figures.total > 0 && figures.slowest > 0 && figures.slowest <= figures.total, "\(figures)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/bench-concurrent-writers"))
    }

    @Test("the total is judged against 2x GlusterFS, the slowest writer against 25 MB/s whatever GlusterFS does")
    func verdicts() throws {
        var radonFS = BenchFSReport.TargetResult(key: "radonfs", title: "RadonFS 4+2")
        radonFS.medians = [BenchFSMetric.concurrentWrite.rawValue: 300, BenchFSMetric.slowestConcurrentWriter.rawValue: 18]
        var glusterFS = BenchFSReport.TargetResult(key: "glusterfs", title: "GlusterFS 4+2")
        glusterFS.medians = [BenchFSMetric.concurrentWrite.rawValue: 120, BenchFSMetric.slowestConcurrentWriter.rawValue: 6]
        let report = BenchFSReport.compared([radonFS, glusterFS], concurrentMounts: 3)
        let total = try #require(report.comparisons.first { $0.metric == BenchFSMetric.concurrentWrite.rawValue })
        let slowest = try #require(report.comparisons.first { $0.metric == BenchFSMetric.slowestConcurrentWriter.rawValue })
        #expect(total.meetsGoal == true && total.radonFSOverGlusterFS == 2.5)
        // 3x GlusterFS's slowest, yet short of the 25 MB/s a writer needs.
        #expect(slowest.meetsGoal == false && slowest.radonFSOverGlusterFS == 3 && slowest.absoluteGoal == 25)

        let lines = BenchFSTable.render(report).split(separator: "\n")
        let totalRow = try #require(lines.first { $0.hasPrefix("concurrent writes") })
        let slowestRow = try #require(lines.first { $0.hasPrefix("slowest writer") })
        #expect(totalRow.contains("2.50x") && totalRow.contains(">=2.0x ok"), "\(totalRow)")
        #expect(slowestRow.contains("3.00x") && slowestRow.contains(">=25.0 MISS"), "\(slowestRow)")
        #expect(lines.contains { $0.contains("concurrent writers: 3 mounts x 5 threads, 256 MiB each") })
    }

    @Test("with --mounts 0 the table has no concurrent rows")
    func noRowsWhenSkipped() {
        var radonFS = BenchFSReport.TargetResult(key: "radonfs", title: "RadonFS 4+2")
        radonFS.medians = [BenchFSMetric.sequentialWrite.rawValue: 300]
        let table = BenchFSTable.render(BenchFSReport.compared([radonFS]))
        #expect(!table.contains("concurrent writes") && !table.contains("slowest writer"))
    }
}
