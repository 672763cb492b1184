import Foundation
import Logging
import RadonWire

/// Looks at the cluster once per `interval` through the metadata service's own answers, keeps
/// the last snapshot for the page, and turns what changed into events (the newest
/// `eventCapacity` of them, in memory: a restarted server's console starts its list again).
///
/// Invariant: `latest.events` is `events` newest first; a failed look keeps the last good
/// snapshot's cluster state, marks it inactive and says why, so the page never shows a stale
/// cluster as current.
public actor ConsoleWatcher {
    let meta: MetaClient
    let interval: Duration
    let eventCapacity: Int
    let logger: Logger
    private var previous: ClusterObservation?
    private var events: [ClusterEvent] = []
    private var latest: ConsoleSnapshot
    private var wasReachable = true

    public init(meta: MetaClient, interval: Duration = .seconds(1), eventCapacity: Int = 200, logger: Logger) {
        self.meta = meta
        self.interval = interval
        self.eventCapacity = eventCapacity
        self.logger = logger
        latest = ConsoleSnapshot(takenAt: Date().timeIntervalSince1970, problem: "the console has not looked at the cluster yet")
    }

    /// Looks until cancelled.
    public func run() async {
        while !Task.isCancelled {
            await look()
            try? await Task.sleep(for: interval)
        }
    }

    /// The last look, with the events.
    public func snapshot() -> ConsoleSnapshot { latest }

    /// Records what an operator did through the console.
    public func record(_ event: ClusterEvent) {
        append([event])
        latest.events = events.reversed()
    }

    /// One look: a snapshot and the events since the last one.
    public func look() async {
        do {
            let status = try await meta.status()
            let healing = try await meta.healingStatus()
            let observation = ClusterObservation(status: status, healing: healing)
            var found = observation.events(since: previous)
            if !wasReachable {
                found.insert(ClusterEvent(time: status.now.unixSeconds, kind: .serviceBack, message: "The metadata service answers again"), at: 0)
            }
            append(found)
            previous = observation
            wasReachable = true
            latest = ConsoleSnapshot(status: status, healing: healing)
        } catch let error as WireError where error.status == .notActive {
            latest.isActive = false
            latest.problem = "this metadata server is a standby: the active server's console shows the cluster"
        } catch {
            let now = Date().timeIntervalSince1970
            if wasReachable {
                logger.warning("console: the metadata service did not answer", metadata: ["error": "\(error)"])
                append([ClusterEvent(time: now, kind: .serviceUnreachable, isWarning: true, message: "The metadata service did not answer: \(error)")])
            }
            wasReachable = false
            latest.isActive = false
            latest.takenAt = now
            latest.problem = "the metadata service did not answer: \(error)"
        }
        latest.events = events.reversed()
    }

    private func append(_ new: [ClusterEvent]) {
        events += new
        if events.count > eventCapacity { events.removeFirst(events.count - eventCapacity) }
    }
}
