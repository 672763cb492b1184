import Foundation
import RadonTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Calls through a mount every 0.2 s (create, write, fsync, close, stat), on a thread of its
/// own so its blocking calls never hold a Swift-concurrency thread: how long each took, and
/// whether any failed.
final class MountProbe: Sendable {
    private struct Record {
        var stop = false
        var calls = 0
        var failures: [String] = []
        var longest: Duration = .zero
        var lastSuccess: ContinuousClock.Instant?
    }
    private let record = Mutex(Record())
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Thread.detachNewThread { [self] in run() }
    }

    private func run() {
        var index = 0
        while !record.withLock({ $0.stop }) {
            let path = "\(directory)/p\(index)"
            let started = ContinuousClock.now
            var failure: String?
            let descriptor = open(path, O_CREAT | O_WRONLY, 0o644)
            if descriptor < 0 {
                failure = "create \(path): \(String(cString: strerror(errno)))"
            } else {
                let bytes = [UInt8](repeating: 0x51, count: 100)
                if write(descriptor, bytes, bytes.count) != bytes.count || fsync(descriptor) != 0 {
                    failure = "write \(path): \(String(cString: strerror(errno)))"
                }
                close(descriptor)
                var information = stat()
                if failure == nil, stat(path, &information) != 0 || information.st_size != 100 {
                    failure = "stat \(path): \(String(cString: strerror(errno)))"
                }
            }
            let finished = ContinuousClock.now
            record.withLock { record in
                record.calls += 1
                record.longest = max(record.longest, finished - started)
                if let failure { record.failures.append(failure) } else { record.lastSuccess = finished }
            }
            index += 1
            usleep(200_000)
        }
    }

    /// Waits until a call that began after `instant` succeeded (or `limit` passed).
    func waitForSuccess(after instant: ContinuousClock.Instant, limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let last = record.withLock({ $0.lastSuccess }), last > instant + .milliseconds(500) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Stops the loop; its calls, failures and longest call.
    func stop() -> (calls: Int, failures: [String], longest: Duration) {
        record.withLock { record in
            record.stop = true
            return (record.calls, record.failures, record.longest)
        }
    }
}

extension TestbedTests {
    /// The active metadata host's link cut (nothing refused, nothing closed: packets vanish),
    /// then its PostgreSQL failed over to meta1 with `meta promote`: the mount's calls stall,
    /// fail over to meta1 once it is elected, and none fails. Before the silence watch, the late
    /// renewal and the pass-over of a slow-to-connect address, the same cut stalled the mount
    /// 46 s; now about 9 s after the cut plus meta1's election after the promote.
    @Test(.enabled(if: canRunPair, "needs root, nsenter, PostgreSQL's server binaries and the radonfs binary of this build"),
          .timeLimit(.minutes(3)))
    func theMountRidesThroughACutLinkToTheActiveMetaHost() async throws {
        try await Self.withBed("radonfs-testbed-cut", [
            "--metas", "2", "--storage-hosts", "3", "--clients", "1", "--layout", "2+1", "--block-size", "64KiB",
        ]) { directory in
            let status = try Self.radonfs(["testbed", "status", "--dir", directory])
            let active = try #require(Self.meta("active", in: status), "no active metadata server in:\n\(status)")
            #expect(active.address.hasPrefix("10.214.1.2:"), "meta0 is not the active server:\n\(status)")
            let mount = "\(directory)/mnt/client0"
            let probe = try MountProbe(directory: "\(mount)/probe")
            try await Task.sleep(for: .seconds(1))

            let cut = ContinuousClock.now
            try Self.radonfs(["testbed", "run", "meta0", "--dir", directory, "--", "ip", "link", "set", "rbm0p0n", "down"])
            try await Task.sleep(for: .seconds(5))
            let promoted = ContinuousClock.now
            try Self.radonfs(["meta", "promote", "--dir", directory])
            try await probe.waitForSuccess(after: promoted, limit: .seconds(60))
            let (calls, failures, longest) = probe.stop()
            print("cut link to the active metadata host: longest mount call \(longest) of \(calls) calls; promoted \(promoted - cut) after the cut, answered again \(ContinuousClock.now - promoted) after it")
            #expect(failures.isEmpty, "mount calls failed: \(failures)")
            #expect(longest < .seconds(25), "a mount call stalled \(longest)")

            // What the mount wrote after the failover reads back from the cluster through meta1.
            let after = patternBytes(count: 300_001, seed: 23)
            try Data(after).write(to: URL(fileURLWithPath: "\(mount)/after-cut.bin"))
            let copy = "\(directory)/after-cut.copy"
            try Self.radonfs(["get", "--dir", directory, "/after-cut.bin", copy])
            let read = try #require(FileManager.default.contents(atPath: copy))
            #expect(sha256(Array(read)) == sha256(after), "the file written after the cut reads back other bytes")

            try Self.radonfs(["testbed", "down", "--dir", directory, "--grace", "5"])
            #expect(Self.leftovers().isEmpty, "left behind: \(Self.leftovers())")
            #expect(Self.processes(naming: directory).isEmpty, "still running: \(Self.processes(naming: directory))")
        }
    }
}
