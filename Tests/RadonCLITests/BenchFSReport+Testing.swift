@testable import RadonCLI

extension BenchFSReport {
    /// A 4+2 report of `targets`, compared, from settings the rows under test do not depend on;
    /// `concurrentMounts` 0 is a run without the concurrent writers.
    static func compared(_ targets: [TargetResult], concurrentMounts: Int = 0) -> BenchFSReport {
        var settings = BenchFSJobSettings(fileSize: 1 << 30, randomRuntime: 1, randomThreads: 1, smallFileCount: 1, smallFileSize: 1)
        settings.concurrentMounts = concurrentMounts
        var report = BenchFSReport(
            date: "now", machine: .init(cores: 2, memoryGiB: 1, kernel: "test", loadAtStart: 0, loadAtEnd: 0),
            command: "bench fs", settings: settings,
            dataFragments: 4, fragments: 6, repetitions: 1, smallFileRepetitions: 1, targets: targets)
        report.compare()
        return report
    }
}
