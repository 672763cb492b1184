import ArgumentParser
import Foundation
import RadonClient

/// `radonfs scrub`: read everything, check it, fix what is wrong.
struct ScrubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrub",
        abstract: "Read every fragment, check its CRC and that each block's fragments agree, and repair what is wrong.",
        discussion: """
            One job per placement group, run by the storage daemons in parallel: each block's \
            fragments are read from every member, the block is decoded from k intact ones and \
            re-encoded, and any fragment that is corrupt, missing, older than the block, or \
            different from the re-encoded one is rewritten. Waits and prints what was found and \
            fixed (--no-wait returns at once). The metadata service can also scrub in the \
            background (`radonfs meta --scrub-every`).
            """
    )

    @OptionGroup var cluster: ClusterLocator

    @Option(name: .long, help: ArgumentHelp("Read rate limit per storage node, MB/s (0: unlimited).", valueName: "MB/s"))
    var rate: Double = 0

    @Flag(name: .customLong("no-wait"), help: "Queue the scrub and return.")
    var noWait = false

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let (meta, pool) = try await cluster.connectMeta()
        defer { Task { await pool.closeAll() } }
        let started = try await meta.startHealing(.scrub, rateLimit: UInt64(max(0, rate) * 1e6))
        let run = started.runID
        guard !noWait else {
            print("scrub queued for \(started.jobs.filter { $0.runID == run }.count) placement groups")
            return
        }
        var status = started
        while true {
            let jobs = status.jobs.filter { $0.runID == run }
            if jobs.allSatisfy(\.state.isFinished) { break }
            try await Task.sleep(for: .milliseconds(500))
            status = try await meta.healingStatus()
        }
        let totals = HealingTotals(status.jobs.filter { $0.runID == run })
        if json {
            print("{\"groups\": \(totals.jobs), \"blocks\": \(totals.blocksChecked), \"bytesRead\": \(totals.bytesRead), "
                + "\"found\": \(totals.found), \"fixed\": \(totals.fixed), \"unrecoverable\": \(totals.unrecoverable), \"failedGroups\": \(totals.failed)}")
        } else {
            print("scrub: \(totals.jobs) groups, \(totals.blocksChecked) blocks, \(HealingTotals.megabytes(totals.bytesRead)) read "
                + "in \(HealingTotals.clock(totals.elapsed(now: status.now))): found \(totals.found), fixed \(totals.fixed)"
                + (totals.unrecoverable > 0 ? ", unrecoverable \(totals.unrecoverable)" : ""))
        }
        if totals.failed > 0 {
            // A group with a member down cannot be checked whole: say which and why.
            let reasons = Set(status.jobs.filter { $0.runID == run && $0.state == .failed }.map(\.message)).sorted().prefix(5)
            FileHandle.standardError.write(Data("scrub: \(totals.failed) of \(totals.jobs) groups could not be checked: \(reasons.joined(separator: "; "))\n".utf8))
        }
        if !json {
            print(ClusterProtection(status: try await meta.status(), healing: try await meta.healingStatus()).lines.joined(separator: "\n"))
        }
        if totals.unrecoverable > 0 || totals.fixed < totals.found || totals.failed > 0 { throw ExitCode(2) }
    }
}
