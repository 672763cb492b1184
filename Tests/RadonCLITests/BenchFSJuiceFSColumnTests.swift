@testable import RadonCLI
import Testing

/// `bench fs` with JuiceFS measured: RadonFS's ratio over it on every row, against the issue's
/// goal of matching it, and no JuiceFS column when it was not measured.
@Suite("bench fs: the JuiceFS column")
struct BenchFSJuiceFSColumnTests {
    @Test("RadonFS over JuiceFS per row, ok at 1.0x or more, MISS below")
    func ratiosAndVerdicts() throws {
        var radonFS = BenchFSReport.TargetResult(key: "radonfs", title: "RadonFS 4+2")
        radonFS.medians = [BenchFSMetric.sequentialWrite.rawValue: 300, BenchFSMetric.create.rawValue: 400]
        var juiceFS = BenchFSReport.TargetResult(key: "juicefs", title: "JuiceFS (1 copy)")
        juiceFS.medians = [BenchFSMetric.sequentialWrite.rawValue: 600, BenchFSMetric.create.rawValue: 250]
        let report = BenchFSReport.compared([radonFS, juiceFS])
        let write = try #require(report.comparisons.first { $0.metric == BenchFSMetric.sequentialWrite.rawValue })
        #expect(write.radonFSOverJuiceFS == 0.5)
        let lines = BenchFSTable.render(report).split(separator: "\n")
        #expect(lines.contains { $0.contains("RadonFS/JuiceFS") })
        let writeRow = try #require(lines.first { $0.hasPrefix("seq write 1 MiB") })
        let createRow = try #require(lines.first { $0.hasPrefix("create small files") })
        #expect(writeRow.contains("0.50x") && writeRow.hasSuffix("MISS"), "\(writeRow)")
        #expect(createRow.contains("1.60x") && createRow.hasSuffix("ok"), "\(createRow)")
    }

    @Test("without JuiceFS the table has no JuiceFS column")
    func noColumnWithoutJuiceFS() {
        var radonFS = BenchFSReport.TargetResult(key: "radonfs", title: "RadonFS 4+2")
        radonFS.medians = [BenchFSMetric.sequentialWrite.rawValue: 300]
        let report = BenchFSReport.compared([radonFS])
        #expect(!BenchFSTable.render(report).contains("JuiceFS"))
        #expect(report.comparisons.allSatisfy { $0.radonFSOverJuiceFS == nil })
    }
}
