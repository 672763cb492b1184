import Foundation

/// Totals over a set of healing jobs, as `rebuild --watch`, `scrub` and `status` print them.
public struct HealingTotals: Sendable {
    public internal(set) var jobs = 0
    public internal(set) var finished = 0
    public internal(set) var failed = 0
    public internal(set) var running = 0
    public internal(set) var bytesWritten: UInt64 = 0
    public internal(set) var bytesRead: UInt64 = 0
    public internal(set) var blocksChecked: UInt64 = 0
    public internal(set) var found: UInt64 = 0
    public internal(set) var fixed: UInt64 = 0
    public internal(set) var unrecoverable: UInt64 = 0
    public internal(set) var firstCreated: Timestamp?
    public internal(set) var lastUpdated: Timestamp?

    public init(_ jobs: some Sequence<HealingJob>) {
        for job in jobs {
            self.jobs += 1
            if job.state.isFinished { finished += 1 }
            if job.state == .failed { failed += 1 }
            if job.state == .running { running += 1 }
            bytesWritten += job.bytesWritten
            bytesRead += job.bytesRead
            blocksChecked += job.blocksChecked
            found += job.found
            fixed += job.fixed
            unrecoverable += job.unrecoverable
            firstCreated = min(firstCreated ?? job.createdAt, job.createdAt)
            lastUpdated = max(lastUpdated ?? job.updatedAt, job.updatedAt)
        }
    }

    public var fraction: Double { jobs == 0 ? 1 : Double(finished) / Double(jobs) }
    public var isComplete: Bool { finished == jobs }

    /// Seconds from the first job's creation to `now` (or its last update once complete).
    public func elapsed(now: Timestamp) -> Double {
        guard let firstCreated else { return 0 }
        let end = isComplete ? (lastUpdated ?? now) : now
        return max(0.001, Double(end.seconds - firstCreated.seconds) + (Double(end.nanoseconds) - Double(firstCreated.nanoseconds)) / 1e9)
    }

    /// Bytes rebuilt per second so far: 0 with no job (elapsed is at least a millisecond once
    /// there is one, so the rate is finite).
    public func rate(now: Timestamp) -> Double {
        jobs == 0 ? 0 : Double(bytesWritten) / elapsed(now: now)
    }

    /// Seconds left at the pace of the groups finished so far: nil before the first finishes
    /// (no pace yet), 0 once all have.
    public func remainingSeconds(now: Timestamp) -> Double? {
        if isComplete { return 0 }
        guard finished > 0 else { return nil }
        return elapsed(now: now) / Double(finished) * Double(jobs - finished)
    }

    /// `[#####-----]  42%  12/28 groups  3.1 MB/s written  ETA 0:12`, or a plain sentence
    /// when there is no job (a rebuild not started yet, or none needed).
    public func progressLine(now: Timestamp, width: Int = 30) -> String {
        guard jobs > 0 else { return "no rebuild job running or queued" }
        var line = "\(Self.bar(fraction, width: width))  \(finished)/\(jobs) groups  "
            + "\(Self.megabytes(bytesWritten)) rebuilt, \(Self.megabytes(UInt64(rate(now: now))))/s"
        if isComplete {
            line += "  in \(Self.clock(elapsed(now: now)))"
        } else if let remaining = remainingSeconds(now: now) {
            line += "  ETA \(Self.clock(remaining))"
        }
        if found > 0 || unrecoverable > 0 { line += "  found \(found) fixed \(fixed)" + (unrecoverable > 0 ? " unrecoverable \(unrecoverable)" : "") }
        return line
    }

    /// `[#####-----]  42%`: `fraction` (clamped to 0...1) of `width` characters, and as a percentage.
    public static func bar(_ fraction: Double, width: Int = 30) -> String {
        let clamped = min(1, max(0, fraction))
        let filled = Int((clamped * Double(width)).rounded(.down))
        return "[\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] \(String(format: "%3.0f", clamped * 100))%"
    }

    public static func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    public static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}

extension HealingStatus {
    /// Jobs that rebuild redundancy (everything but scrubs) of the runs still going on, or of
    /// the last such run when none is.
    public var repairJobs: [HealingJob] { jobs(where: { $0 != .scrub }) }
    public var scrubJobs: [HealingJob] { jobs(where: { $0 == .scrub }) }

    private func jobs(where kind: (HealingKind) -> Bool) -> [HealingJob] {
        let relevant = jobs.filter { kind($0.kind) }
        let activeRuns = Set(relevant.filter { !$0.state.isFinished }.map(\.runID))
        if !activeRuns.isEmpty {
            let oldest = activeRuns.min()!
            return relevant.filter { $0.runID >= oldest }
        }
        guard let last = relevant.map(\.runID).max() else { return [] }
        return relevant.filter { $0.runID == last }
    }

    /// One line for `radonfs status`.
    public var summaryLine: String {
        var parts: [String] = []
        let repair = HealingTotals(repairJobs)
        if repair.jobs > 0 {
            parts.append(repair.isComplete ? "rebuild done (\(repair.jobs) groups, \(HealingTotals.megabytes(repair.bytesWritten)))"
                : "rebuild \(String(format: "%.0f", repair.fraction * 100))% (\(repair.finished)/\(repair.jobs) groups)")
        }
        let scrub = HealingTotals(scrubJobs)
        if scrub.jobs > 0 {
            parts.append((scrub.isComplete ? "last scrub: " : "scrub \(String(format: "%.0f", scrub.fraction * 100))%: ")
                + "found \(scrub.found), fixed \(scrub.fixed)")
        }
        if pendingRepairs > 0 { parts.append("\(pendingRepairs) block fragments queued for repair") }
        return "Healing: " + (parts.isEmpty ? "nothing to do" : parts.joined(separator: "; "))
    }
}
