import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU accounting around a rebuild, from /proc: how busy the machine was and how much CPU each
/// daemon used. On one host the daemons share its cores, so a CPU-bound rebuild cannot grow
/// with the node count there; the busiest daemon's CPU time bounds what the same work would
/// take with one machine per node.
enum BenchRebuildCPU {
    struct Sample {
        /// Busy and total jiffies of the whole machine (/proc/stat "cpu" line).
        var machineBusy: UInt64
        var machineTotal: UInt64
        /// utime + stime of each process, in clock ticks.
        var processTicks: [pid_t: UInt64]

        func usage(since start: Sample, rebuiltBytes: UInt64, labels: [pid_t: String] = [:]) -> Usage {
            let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
            let total = Double(machineTotal &- start.machineTotal)
            let byPid = processTicks.mapValues { Double($0) }.map { pid, ticks in
                (pid, (ticks - Double(start.processTicks[pid] ?? UInt64(ticks))) / ticksPerSecond)
            }
            let perDaemon = byPid.map(\.1)
            let busiest = perDaemon.max() ?? 0
            let daemons = perDaemon.reduce(0, +)
            let top = byPid.sorted { $0.1 > $1.1 }.prefix(4).map { "\(labels[$0.0] ?? "pid \($0.0)") \(String(format: "%.2f", $0.1))" }
            return Usage(
                machineBusy: total > 0 ? Double(machineBusy &- start.machineBusy) / total : 0,
                daemonSeconds: daemons, busiestDaemonSeconds: busiest,
                daemonSecondsPerRebuiltGB: rebuiltBytes > 0 ? daemons / (Double(rebuiltBytes) / 1e9) : 0,
                oneCorePerNodeBoundMBps: busiest > 0 ? Double(rebuiltBytes) / 1e6 / busiest : 0,
                busiestDaemons: top)
        }
    }

    struct Usage: Codable, Sendable {
        /// Fraction of all the machine's cores busy (any process) during the rebuild.
        var machineBusy: Double
        /// CPU seconds used by the cluster's daemons, all together and the busiest one.
        var daemonSeconds: Double
        var busiestDaemonSeconds: Double
        var daemonSecondsPerRebuiltGB: Double
        /// Rebuilt MB over the busiest daemon's CPU seconds: the rate the same work could reach
        /// if every node had a core of its own (disk and network aside).
        var oneCorePerNodeBoundMBps: Double
        /// The four daemons that used the most CPU, "name seconds".
        var busiestDaemons: [String]
    }

    static func sample(_ pids: [pid_t]) -> Sample {
        var busy: UInt64 = 0
        var total: UInt64 = 0
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) {
            let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            total = fields.reduce(0, +)
            // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
            busy = total - (fields.count > 4 ? fields[3] + fields[4] : 0)
        }
        var ticks: [pid_t: UInt64] = [:]
        for pid in pids {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")") else { continue }
            // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { continue }
            ticks[pid] = user + system
        }
        return Sample(machineBusy: busy, machineTotal: total, processTicks: ticks)
    }
}
