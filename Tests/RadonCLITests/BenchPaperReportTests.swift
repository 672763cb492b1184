import Foundation
@testable import RadonCLI
import Testing

/// The pure parts of `bench paper`: per-thread figures, the table, fio's and iperf3's reports,
/// the plots' data.
struct BenchPaperReportTests {
    @Test func minimumMedianAndAccumulatedComeFromTheThreads() {
        let odd = BenchPaperResult(layout: "2+1", clients: 1, test: .sequentialRead, threadMBps: [30, 10, 20])
        #expect(odd.minimum == 10 && odd.median == 20 && odd.accumulated == 60)
        #expect(!odd.meetsGoal)
        let even = BenchPaperResult(layout: "2+1", clients: 1, test: .sequentialRead, threadMBps: [40, 26, 30, 50])
        #expect(even.median == 35)
        #expect(even.meetsGoal)
    }

    @Test func theTableHasARowPerResultWithTheGoal() {
        var report = BenchPaperReport(
            date: "d", command: "c", cores: 2, memoryGiB: 24, codec: "mojette-systematic", threadsPerClient: 5, fileSize: 256 << 20,
            randomRequestSize: 128 << 10, randomRuntime: 20, linkRate: "1gbit")
        report.results = [
            BenchPaperResult(layout: "4+2", clients: 2, test: .sequentialWrite, threadMBps: [24.5, 31, 40]),
            BenchPaperResult(layout: "4+2", clients: 2, test: .randomRead, threadMBps: [120, 130]),
        ]
        let rows = report.table.split(separator: "\n")
        #expect(rows.count == 4)
        #expect(rows[2] == "| 4+2 | 2 | sequential write | 3 | 24.5 | 31.0 | 95.5 | no |")
        #expect(rows[3] == "| 4+2 | 2 | random read | 2 | 120 | 125 | 250 | yes |")
        #expect(report.header.contains("256 MiB"))
    }

    @Test func theHeaderListsTheClientLinksOnlyWhenHostsHaveSeveral() throws {
        let plan = try TestbedPlan(paths: 2, clients: 1, clientPaths: 2)
        var report = BenchPaperReport(
            date: "d", command: "c", cores: 2, memoryGiB: 24, codec: "mojette-systematic", threadsPerClient: 5, fileSize: 128 << 20,
            randomRequestSize: 128 << 10, randomRuntime: 10, linkRate: "1gbit", storagePaths: plan.paths, clientPaths: plan.clientPaths,
            clientLinks: plan.clientLinkPlan)
        #expect(report.header.contains("Links: 2 links per storage host, 2 links per client host (storage path p over client link p mod 2):"))
        #expect(report.header.contains("client0 link 1 10.214.101.2 (rbc0p1n): storage 10.214.11.x"))
        // A report of one link per host (or of a run before the field) reads as before.
        report.storagePaths = 1
        report.clientPaths = 1
        #expect(!report.header.contains("Links:"))
        report.storagePaths = nil
        report.clientPaths = nil
        #expect(!report.header.contains("Links:"))
    }

    @Test func fioReportsGiveOneRatePerThread() throws {
        let path = NSTemporaryDirectory() + "/paper-fio-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let job = { (bytes: Int, milliseconds: Int) in
            #"{"error": 0, "read": {"io_bytes": \#(bytes), "runtime": \#(milliseconds), "iops": 1}, "write": {"io_bytes": 0, "runtime": 0, "iops": 0}}"#
        }
        try Data(#"{"jobs": [\#(job(50_000_000, 1000)), \#(job(30_000_000, 2000))]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try BenchPaperJobs.threadRates(reportAt: path, writes: false) == [50, 15])
        #expect(throws: CLIError.self) { try BenchPaperJobs.threadRates(reportAt: path, writes: true) }
    }

    @Test func iperfReportsGiveMegabytesPerSecond() throws {
        let json = #"{"start": {}, "end": {"sum_received": {"bits_per_second": 940000000.0}, "sum_sent": {"bits_per_second": 1}}}"#
        #expect(try BenchPaperLinkBound.receivedMegabytesPerSecond(json: json) == 117.5)
        #expect(throws: CLIError.self) { try BenchPaperLinkBound.receivedMegabytesPerSecond(json: #"{"error": "unable to connect"}"#) }
    }

    @Test func plotDataHasARowPerClientCountAndMarksWhatIsMissing() {
        let results = [
            BenchPaperResult(layout: "2+1", clients: 1, test: .sequentialWrite, threadMBps: [10, 20]),
            BenchPaperResult(layout: "2+1", clients: 2, test: .sequentialWrite, threadMBps: [5]),
            BenchPaperResult(layout: "2+1", clients: 2, test: .sequentialRead, threadMBps: [7]),
        ]
        #expect(BenchPaperPlots.data(results, layout: "2+1", tests: [.sequentialWrite, .sequentialRead]) == "# clients seq-write seq-read\n1 30.0 NaN\n2 5.0 7.0\n")
        #expect(BenchPaperPlots.data(results, layout: "4+2", tests: [.sequentialWrite]) == nil)
        let script = BenchPaperPlots.script(data: "d.dat", image: "i.png", title: "t", tests: [.sequentialWrite], threadsPerClient: 5, maximumClients: 3)
        #expect(script.contains("125.0 * x"), "the goal line is 25 MB/s for each of 5 threads per client")
    }

    @Test func eachClientReadsWhatTheNextClientWrote() {
        let mounts = ["/m0", "/m1", "/m2"]
        #expect(BenchPaperCommand.directories(mounts, under: "p/3", clients: 3, after: .sequentialWrite) == ["/m0/p/3/client0", "/m1/p/3/client1", "/m2/p/3/client2"])
        #expect(BenchPaperCommand.directories(mounts, under: "p/3", clients: 3, after: .sequentialRead) == ["/m0/p/3/client1", "/m1/p/3/client2", "/m2/p/3/client0"])
        #expect(BenchPaperCommand.directories(mounts, under: "p/1", clients: 1, after: .randomRead) == ["/m0/p/1/client0"])
    }
}
