import Logging
import Synchronization

/// What one `WireServer` shares among its connections to stay within bounds under abuse: how
/// many connections are still unauthenticated (past `maximumUnauthenticated`, new ones are
/// closed at once), and a rate limit on the log lines that refusals write (a flood must not
/// fill the disk or drown the log).
final class ConnectionGuard: Sendable {
    let maximumUnauthenticated: Int
    private let unauthenticated = Atomic<Int>(0)
    private let logBudget = Mutex<(windowStart: ContinuousClock.Instant, written: Int, suppressed: Int)>((.now, 0, 0))
    /// Refusal lines written per `logWindow`; the rest are counted and summed up in the next line.
    static let linesPerWindow = 10
    static let logWindow: Duration = .seconds(10)

    init(maximumUnauthenticated: Int) {
        self.maximumUnauthenticated = maximumUnauthenticated
    }

    /// Counts a new connection as unauthenticated; false (and not counted) when too many are.
    func admitUnauthenticated() -> Bool {
        let now = unauthenticated.wrappingAdd(1, ordering: .relaxed).newValue
        if now > maximumUnauthenticated {
            unauthenticated.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// A connection admitted by `admitUnauthenticated` authenticated or closed.
    func releaseUnauthenticated() {
        unauthenticated.wrappingSubtract(1, ordering: .relaxed)
    }

    var unauthenticatedCount: Int { unauthenticated.load(ordering: .relaxed) }

    /// Logs a refusal unless this window's budget is spent; the first line of the next window
    /// says how many were left out.
    func logRefusal(_ message: String, logger: Logger) {
        let (write, suppressed): (Bool, Int) = logBudget.withLock { budget in
            let now = ContinuousClock.now
            if now - budget.windowStart >= Self.logWindow {
                let suppressed = budget.suppressed
                budget = (now, 1, 0)
                return (true, suppressed)
            }
            guard budget.written < Self.linesPerWindow else {
                budget.suppressed += 1
                return (false, 0)
            }
            budget.written += 1
            return (true, 0)
        }
        guard write else { return }
        if suppressed > 0 {
            logger.notice("\(message) (and \(suppressed) more refusals not logged)")
        } else {
            logger.notice("\(message)")
        }
    }
}
