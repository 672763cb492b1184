import Foundation
import RadonWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Measures how long a mount stops answering: on a thread of its own (its system calls may
/// block for the whole failover, which must not hold a task of the cooperative pool), it
/// rewrites and stats a small file under `directory` every `interval` and keeps the longest
/// round it saw and how many failed.
public final class StallProbe: Sendable {
    struct Record {
        var longest: Duration = .zero
        var rounds = 0
        var failures = 0
        var stopped = false
        var finished = false
    }

    let record = Mutex(Record())

    public init(directory: String, interval: Duration = .milliseconds(100)) {
        let path = "\(directory)/.stall-probe"
        let thread = Thread { [self] in
            var round: UInt32 = 0
            while !self.record.withLock({ $0.stopped }) {
                let started = ContinuousClock.now
                round &+= 1
                var ok = false
                let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if descriptor >= 0 {
                    ok = withUnsafeBytes(of: round) { write(descriptor, $0.baseAddress, $0.count) } == 4
                    ok = close(descriptor) == 0 && ok
                    var status = stat()
                    ok = stat(path, &status) == 0 && ok
                }
                let took = started.duration(to: .now)
                self.record.withLock { record in
                    record.longest = max(record.longest, took)
                    record.rounds += 1
                    if !ok { record.failures += 1 }
                }
                Thread.sleep(forTimeInterval: interval.seconds)
            }
            self.record.withLock { $0.finished = true }
        }
        thread.start()
    }

    /// Stops probing (waiting up to `timeout` for the round in progress) and returns the longest
    /// round, the rounds and the failed rounds.
    public func stop(timeout: Duration = .seconds(60)) async -> (longest: Duration, rounds: Int, failures: Int) {
        record.withLock { $0.stopped = true }
        let deadline = ContinuousClock.now + timeout
        while !record.withLock({ $0.finished }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return record.withLock { ($0.longest, $0.rounds, $0.failures) }
    }
}
