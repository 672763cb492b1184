import Foundation

/// Everything one `radonfs bench rebuild` run measured, as `--json` prints it and the table reads it.
struct BenchRebuildReport: Codable, Sendable {
    /// One rebuild: the time from `node remove` to its last job done, and what the jobs moved.
    struct Rebuild: Codable, Sendable {
        var seconds: Double
        /// Fragment bytes written on the new members: the rebuilt data.
        var bytesWritten: UInt64
        /// Fragment bytes (and slot headers) read from the surviving members.
        var bytesRead: UInt64
        var groups: Int
        /// Distinct storage nodes that ran at least one of the jobs.
        var workers: Int
        var writtenMBps: Double
        var readMBps: Double
        /// Where the CPU went meanwhile (measured for the rebuild alone).
        var cpu: BenchRebuildCPU.Usage?
    }

    /// Foreground I/O through a fresh client: one file written, data set files read.
    struct Foreground: Codable, Sendable {
        var writeBytes: Int
        var writeSeconds: Double
        var writeMBps: Double
        var readBytes: Int
        var readSeconds: Double
        var readMBps: Double
    }

    struct ClusterResult: Codable, Sendable {
        var nodes: Int
        /// Empty daemons started to take removed positions (6 nodes: a 4+2 group has no spare).
        var spares: Int
        var dataSetBytes: Int
        var dataSetWriteMBps: Double
        var rebuild: Rebuild
        var foregroundQuiet: Foreground
        var foregroundDuringRebuild: Foreground
        /// The second rebuild, slowed by the foreground load.
        var rebuildDuringForeground: Rebuild
        /// The second rebuild's duration over the foreground load's (1: it ran all along).
        var rebuildCoveredForeground: Double

        /// How many times longer foreground writes and reads took during the rebuild.
        var writeSlowdown: Double { foregroundDuringRebuild.writeSeconds / max(foregroundQuiet.writeSeconds, 1e-9) }
        var readSlowdown: Double { foregroundDuringRebuild.readSeconds / max(foregroundQuiet.readSeconds, 1e-9) }
    }

    var date: String
    var command: String
    var cores: Int
    /// One-minute load average at the start and end: other work on the machine takes CPU too.
    var loadAtStart: Double
    var loadAtEnd: Double
    var layout: String
    var blockSize: Int
    var dataBytes: Int
    var rateLimitMBps: Double
    /// The disk under the clusters, sequential read with caches dropped (dd, 1 MiB requests).
    var diskReadMBps: Double
    var clusters: [ClusterResult]

    static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }
}

/// The rebuild table: one row per cluster size.
enum BenchRebuildTable {
    static func render(_ report: BenchRebuildReport) -> String {
        var lines = [
            "radonfs bench rebuild, \(report.date), \(report.cores) cores, load \(String(format: "%.1f", report.loadAtStart)) -> \(String(format: "%.1f", report.loadAtEnd))",
            "layout \(report.layout), \(ByteCount.describe(report.blockSize)) blocks, data set \(ByteCount.describe(report.dataBytes)), rate limit \(report.rateLimitMBps == 0 ? "none" : String(format: "%.0f MB/s per node", report.rateLimitMBps))",
            String(format: "disk sequential read (dd, caches dropped): %.0f MB/s", report.diskReadMBps),
            "",
            "nodes  rebuilt MB  seconds  rebuilt MB/s  read MB/s  workers/groups  rebuilt/disk  CPU busy  1 core/node MB/s  fg write quiet->busy (x)   fg read quiet->busy (x)    rebuild covered",
        ]
        for result in report.clusters {
            let rebuild = result.rebuild
            lines.append(String(
                format: "%@  %10.1f  %7.2f  %12.1f  %9.1f  %@  %12.3f  %7.0f%%  %16.0f  %8.1f->%6.1f MB/s (%4.1f)  %7.1f->%6.1f MB/s (%4.1f)  %4.0f%%",
                padded("\(result.nodes)\(result.spares > 0 ? "+\(result.spares)s" : "")", 5),
                Double(rebuild.bytesWritten) / 1e6, rebuild.seconds, rebuild.writtenMBps, rebuild.readMBps,
                padded("\(rebuild.workers)/\(rebuild.groups)", 14, right: true), rebuild.writtenMBps / max(report.diskReadMBps, 1e-9),
                (rebuild.cpu?.machineBusy ?? 0) * 100, rebuild.cpu?.oneCorePerNodeBoundMBps ?? 0,
                result.foregroundQuiet.writeMBps, result.foregroundDuringRebuild.writeMBps, result.writeSlowdown,
                result.foregroundQuiet.readMBps, result.foregroundDuringRebuild.readMBps, result.readSlowdown,
                result.rebuildCoveredForeground * 100))
        }
        lines.append("")
        lines.append("rebuilt MB/s: fragment bytes written on the new members per second, from `node remove` to the last job done (caches dropped first).")
        lines.append("(x): how many times longer the foreground write / read took during a second rebuild than on the quiet cluster.")
        lines.append("CPU busy: all cores of the machine during the rebuild; 1 core/node MB/s: rebuilt MB over the busiest daemon's CPU seconds, the bound if each node had a core of its own.")
        lines.append("Ns: N empty spare daemons started to take the removed positions (4+2 on 6 nodes has no spare).")
        return lines.joined(separator: "\n")
    }

    private static func padded(_ text: String, _ width: Int, right: Bool = false) -> NSString {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return (right ? fill + text : text + fill) as NSString
    }
}
