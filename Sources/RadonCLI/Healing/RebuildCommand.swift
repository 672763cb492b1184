import ArgumentParser
import Foundation
import RadonClient

/// `radonfs rebuild`: restore full redundancy now, and watch it happen.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Restore full redundancy: give every down or lost node's group positions to spares and rebuild them.",
        discussion: """
            The metadata service starts a rebuild by itself when a node is declared lost (and on \
            `radonfs node replace|remove`); this command starts one now for every node that is not \
            up and for every fragment writes recorded as missed. The work is one job per placement \
            group, run by the surviving storage daemons in parallel. With --watch (or --wait) it \
            shows a progress bar with the rebuilt rate and an ETA until everything is done; \
            --watch-only watches without starting anything.
            """
    )

    @OptionGroup var cluster: ClusterLocator

    @Option(name: .long, help: ArgumentHelp("Read rate limit per storage node, MB/s (0: unlimited).", valueName: "MB/s"))
    var rate: Double = 0

    @Flag(name: .long, help: "Show progress until the rebuild is done.")
    var watch = false

    @Flag(name: .customLong("watch-only"), help: "Only watch the rebuild already going on.")
    var watchOnly = false

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        if !watchOnly {
            let status = try await meta.startHealing(.rebuild, rateLimit: UInt64(max(0, rate) * 1e6))
            let started = status.jobs.filter { $0.runID == status.runID }
            print(started.isEmpty ? "nothing to rebuild beyond what is already running" : "rebuild queued for \(started.count) placement groups")
        }
        if watch || watchOnly {
            try await Self.watch(meta, select: \.repairJobs)
        }
        // Whatever was or was not rebuilt: what the data survives now, and why healing waits
        // (no spare, a node down but not yet lost) when it does.
        let protection = ClusterProtection(status: try await meta.status(), healing: try await meta.healingStatus())
        print(protection.lines.joined(separator: "\n"))
    }

    /// Redraws the progress line every second until the selected jobs are all finished.
    static func watch(_ meta: MetaClient, select: (HealingStatus) -> [HealingJob]) async throws {
        let interactive = isatty(STDOUT_FILENO) != 0
        while true {
            let status = try await meta.healingStatus()
            let totals = HealingTotals(select(status))
            let line = totals.progressLine(now: status.now)
            // A terminal gets one line redrawn in place; a pipe or file gets plain lines.
            if interactive { FileHandle.standardOutput.write(Data("\r\(line)".utf8)) } else { print(line) }
            if totals.isComplete {
                if interactive { FileHandle.standardOutput.write(Data("\n".utf8)) }
                if totals.failed > 0 {
                    let messages = Set(select(status).filter { $0.state == .failed }.map(\.message)).prefix(5)
                    throw CLIError("\(totals.failed) groups could not be fully healed: \(messages.joined(separator: "; "))")
                }
                return
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
