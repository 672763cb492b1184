import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the processes that serve a file system (its daemons and its FUSE client), from
/// /proc, around one job: `bench fs` divides it by the bytes the job moved, so an efficiency
/// sits beside each speed. The jobs' own process (fio) is not counted: it does the same system
/// calls on every target.
enum BenchFSProcessCPU {
    /// The CPU seconds `processes()` used while `work` ran. The processes are listed again at
    /// the end, so one born meanwhile (a PostgreSQL backend) counts whole; one that ended
    /// meanwhile is missed.
    static func measuring<T>(_ processes: () -> [pid_t], _ work: () async throws -> T) async rethrows -> (value: T, cpuSeconds: Double?) {
        let before = BenchRebuildCPU.sample(processes())
        let value = try await work()
        let pids = Set(before.processTicks.keys).union(processes())
        guard !pids.isEmpty else { return (value, nil) }
        let after = BenchRebuildCPU.sample(Array(pids))
        let ticks = after.processTicks.reduce(UInt64(0)) { sum, entry in
            sum + (entry.value &- min(entry.value, before.processTicks[entry.key] ?? 0))
        }
        return (value, Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Running processes (not zombies) whose command name and parent satisfy `matches`.
    static func processes(where matches: (_ command: String, _ parent: pid_t) -> Bool) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let command = String(stat[stat.index(after: open)..<close])
            // After the command: state (field 3), then the parent's pid (field 4).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", let parent = pid_t(fields[1]) else { return nil }
            return matches(command, parent) ? pid : nil
        }
    }
}
