import Foundation

/// Everything one `radonfs bench fs` run measured, as `--json` prints it and the table reads it.
struct BenchFSReport: Codable, Sendable {
    struct Machine: Codable, Sendable {
        var cores: Int
        var memoryGiB: Int
        var kernel: String
        /// One-minute load average when the run started and ended: other work on the machine
        /// (builds, tests) takes CPU from whichever target runs at the time.
        var loadAtStart: Double
        var loadAtEnd: Double
    }

    /// One target's repetitions and medians, keyed by `BenchFSMetric.rawValue`.
    struct TargetResult: Codable, Sendable {
        var key: String
        var title: String
        var samples: [String: [Double]] = [:]
        var medians: [String: Double] = [:]
        /// CPU seconds per GiB moved by the serving processes (`BenchFSProcessCPU`), for the
        /// sequential jobs, keyed like `samples`; empty for a target without such processes.
        var cpuSamples: [String: [Double]] = [:]
        var cpuMedians: [String: Double] = [:]
        /// Why the target could not be measured (fully), if it could not.
        var error: String?
    }

    /// RadonFS against the other two, per metric, and the issue's goals.
    struct Comparison: Codable, Sendable {
        var metric: String
        var radonFSOverGlusterFS: Double?
        var goalOverGlusterFS: Double
        var meetsGoal: Bool?
        var radonFSOverLocal: Double?
        /// Against JuiceFS when it was measured; the goal is to match it (1.0x) on every row.
        var radonFSOverJuiceFS: Double? = nil
        /// The rate RadonFS must reach on this row whatever GlusterFS does
        /// (`BenchFSMetric.absoluteGoal`); `meetsGoal` is then against it.
        var absoluteGoal: Double? = nil
    }

    /// The factor over JuiceFS that issue 15 asks of RadonFS on every row.
    static let goalOverJuiceFS = 1.0

    var date: String
    var machine: Machine
    var command: String
    var settings: BenchFSJobSettings
    var dataFragments: Int
    var fragments: Int
    var repetitions: Int
    var smallFileRepetitions: Int
    var targets: [TargetResult]
    var comparisons: [Comparison] = []
    /// RadonFS sequential write over (local sequential write / (n/k)); the goal is 0.6 or more.
    var sequentialWriteOverLocalLimit: Double?
    /// Small-file rates with PostgreSQL and two metadata servers over those with SQLite, by
    /// metric (create, stat, delete); the goal for creates is 0.5 or more.
    var postgresOverSQLite: [String: Double]? = nil

    func median(_ key: String, _ metric: BenchFSMetric) -> Double? {
        targets.first { $0.key == key }?.medians[metric.rawValue]
    }

    func cpuMedian(_ key: String, _ metric: BenchFSMetric) -> Double? {
        targets.first { $0.key == key }?.cpuMedians[metric.rawValue]
    }

    /// Fills in the ratios from the medians.
    mutating func compare() {
        comparisons = BenchFSMetric.allCases.map { metric in
            let radonFS = median("radonfs", metric)
            let glusterFS = median("glusterfs", metric)
            let local = median("local", metric)
            let overGlusterFS = ratio(radonFS, glusterFS)
            let meetsGoal = metric.absoluteGoal.map { goal in radonFS.map { $0 >= goal } }
                ?? overGlusterFS.map { $0 >= metric.goalOverGlusterFS }
            return Comparison(
                metric: metric.rawValue,
                radonFSOverGlusterFS: overGlusterFS,
                goalOverGlusterFS: metric.goalOverGlusterFS,
                meetsGoal: meetsGoal,
                radonFSOverLocal: ratio(radonFS, local),
                radonFSOverJuiceFS: ratio(radonFS, median("juicefs", metric)),
                absoluteGoal: metric.absoluteGoal
            )
        }
        let expansion = Double(fragments) / Double(dataFragments)
        sequentialWriteOverLocalLimit = ratio(
            median("radonfs", .sequentialWrite), median("local", .sequentialWrite).map { $0 / expansion }
        )
        var engines: [String: Double] = [:]
        for metric in [BenchFSMetric.create, .stat, .delete] {
            engines[metric.rawValue] = ratio(median("radonfs-pg", metric), median("radonfs", metric))
        }
        postgresOverSQLite = engines.isEmpty ? nil : engines
    }

    private func ratio(_ numerator: Double?, _ denominator: Double?) -> Double? {
        guard let numerator, let denominator, denominator > 0 else { return nil }
        return numerator / denominator
    }
}

/// The side-by-side table of the targets with RadonFS's ratios and the issues' goals.
enum BenchFSTable {
    static func render(_ report: BenchFSReport) -> String {
        let settings = report.settings
        var lines: [String] = []
        lines.append("radonfs bench fs, \(report.date): \(report.machine.cores) cores, \(report.machine.memoryGiB) GiB, "
            + "Linux \(report.machine.kernel), load \(String(format: "%.1f", report.machine.loadAtStart)) at start, "
            + "\(String(format: "%.1f", report.machine.loadAtEnd)) at end")
        lines.append("median of \(report.repetitions) run(s) (small files: \(report.smallFileRepetitions)); "
            + "\(ByteCount.describe(settings.fileSize)) file, "
            + "fio psync direct=0 end_fsync=1 (writes), caches dropped before reads; random jobs "
            + "\(settings.randomRuntime) s x \(settings.randomThreads) threads; "
            + "\(settings.smallFileCount) files of \(ByteCount.describe(settings.smallFileSize)), one thread"
            + (settings.concurrentMounts > 0
                ? "; concurrent writers: \(settings.concurrentMounts) mounts x \(settings.concurrentWritersPerMount) threads, "
                    + "\(ByteCount.describe(settings.concurrentFileSize)) each (total: all bytes over the time to the last fsync)"
                : ""))
        lines.append("")

        let targets = report.targets
        var header = [pad("metric", 20, left: true), pad("unit", 8, left: true)]
        header += targets.map { pad($0.title, 15) }
        header += [pad("RadonFS/GlusterFS", 18), pad("goal", 11), pad("RadonFS/local", 14)]
        let hasJuiceFS = targets.contains { $0.key == "juicefs" }
        if hasJuiceFS { header += [pad("RadonFS/JuiceFS", 16), pad("goal", 11)] }
        lines.append(header.joined(separator: " "))
        lines.append(String(repeating: "-", count: header.joined(separator: " ").count))

        let concurrentMetrics: Set<BenchFSMetric> = [.concurrentWrite, .slowestConcurrentWriter]
        for (metric, comparison) in zip(BenchFSMetric.allCases, report.comparisons) {
            if concurrentMetrics.contains(metric), settings.concurrentMounts == 0 { continue }
            var row = [pad(metric.label, 20, left: true), pad(metric.unit, 8, left: true)]
            row += targets.map { pad(format($0.medians[metric.rawValue]), 15) }
            let verdict = comparison.meetsGoal.map { $0 ? " ok" : " MISS" } ?? ""
            row.append(pad(ratioText(comparison.radonFSOverGlusterFS), 18))
            let goal = comparison.absoluteGoal.map { ">=" + format($0) } ?? String(format: ">=%.1fx", comparison.goalOverGlusterFS)
            row.append(pad(goal + verdict, 11))
            row.append(pad(ratioText(comparison.radonFSOverLocal), 14))
            if hasJuiceFS {
                let overJuiceFS = comparison.radonFSOverJuiceFS
                row.append(pad(ratioText(overJuiceFS), 16))
                row.append(pad(String(format: ">=%.1fx", BenchFSReport.goalOverJuiceFS)
                    + (overJuiceFS.map { $0 >= BenchFSReport.goalOverJuiceFS ? " ok" : " MISS" } ?? ""), 11))
            }
            lines.append(row.joined(separator: " "))
        }
        lines.append(contentsOf: cpuRows(report))
        lines.append("")
        let expansion = String(format: "%.2f", Double(report.fragments) / Double(report.dataFragments))
        if let limit = report.sequentialWriteOverLocalLimit {
            lines.append("seq write vs local write / (n/k = \(expansion)): " + String(format: "%.2f", limit)
                + " (goal >= 0.60: \(limit >= 0.6 ? "ok" : "MISS"))")
        }
        if let engines = report.postgresOverSQLite {
            let rows = [BenchFSMetric.create, .stat, .delete].compactMap { metric in
                engines[metric.rawValue].map { "\(metric.rawValue) " + String(format: "%.2f", $0) }
            }
            let createGoal = engines[BenchFSMetric.create.rawValue].map { $0 >= 0.5 ? "ok" : "MISS" } ?? "-"
            lines.append("PostgreSQL with 2 metadata servers over SQLite: \(rows.joined(separator: ", ")) "
                + "(goal: create >= 0.50: \(createGoal))")
        }
        for target in targets {
            if let error = target.error { lines.append("\(target.title): \(error)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The CPU seconds per GiB of the sequential jobs, in the same columns: every process
    /// serving the file system, from /proc (lower is better; the goal is below GlusterFS's).
    private static func cpuRows(_ report: BenchFSReport) -> [String] {
        let cpuMetrics: [BenchFSMetric] = [.sequentialWrite, .sequentialRead]
        guard report.targets.contains(where: { !$0.cpuMedians.isEmpty }) else { return [] }
        return cpuMetrics.map { metric in
            var row = [pad(metric.label.replacingOccurrences(of: " 1 MiB", with: " CPU"), 20, left: true), pad("s/GiB", 8, left: true)]
            row += report.targets.map { pad(format($0.cpuMedians[metric.rawValue]), 15) }
            let radonFS = report.cpuMedian("radonfs", metric)
            let glusterFS = report.cpuMedian("glusterfs", metric)
            let ratio = radonFS.flatMap { value in glusterFS.flatMap { $0 > 0 ? value / $0 : nil } }
            row.append(pad(ratioText(ratio), 18))
            row.append(pad("<1.0x" + (ratio.map { $0 < 1 ? " ok" : " MISS" } ?? ""), 11))
            row.append(pad("-", 14))
            if report.targets.contains(where: { $0.key == "juicefs" }) {
                let juiceFS = report.cpuMedian("juicefs", metric)
                row.append(pad(ratioText(radonFS.flatMap { value in juiceFS.flatMap { $0 > 0 ? value / $0 : nil } }), 16))
                row.append(pad("-", 11))
            }
            return row.joined(separator: " ")
        }
    }

    /// A metric value: three significant figures at most, thousands without decimals.
    static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        switch value {
        case 100...: return String(format: "%.0f", value)
        case 10...: return String(format: "%.1f", value)
        default: return String(format: "%.2f", value)
        }
    }

    private static func ratioText(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: value >= 0.1 ? "%.2fx" : "%.4fx", value)
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        guard text.count < width else { return text }
        let padding = String(repeating: " ", count: width - text.count)
        return left ? text + padding : padding + text
    }
}
