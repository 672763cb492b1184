import Foundation
import RadonTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Creates, renames and unlinks from two mounts of an active/standby cluster while it fails
/// over three times (the active metadata server SIGKILLed, the PostgreSQL primary crashed and
/// its standby promoted, the new active SIGKILLed). Every system call must succeed (the mounts
/// wait through each failover), and the namespace at the end must equal a model of the calls
/// that succeeded: a create or rename retried after it had committed must not run twice (no
/// EEXIST, no ENOENT, no duplicate entry) and nothing acknowledged may be lost.
@Suite("A namespace storm across failovers", .serialized)
struct NamespaceStormTests {
    @Test("creates, renames and unlinks from two mounts across three failovers end equal to a model")
    func stormAcrossThreeFailovers() async throws {
        try await LocalCluster.with(
            directoryPrefix: "radonfs-storm", nodes: 3, layout: "2+1", environment: MetaFencingTests.environment,
            upArguments: LocalCluster.activeStandbyArguments(), mount: true
        ) { cluster in
            let second = "\(cluster.directory)/mnt2"
            try cluster.mountAgain(at: second)
            defer { cluster.unmount(second) }
            let mounts = ["\(cluster.directory)/mnt", second]
            try FileManager.default.createDirectory(atPath: "\(mounts[0])/storm", withIntermediateDirectories: true)
            let seed = UInt64(ProcessInfo.processInfo.environment["RADONFS_STORM_SEED"] ?? "") ?? UInt64.random(in: 1...999_999)
            print("namespace storm seed: \(seed) (replay with RADONFS_STORM_SEED=\(seed))")
            // Each worker has names of its own (w0-…, w1-…) in the one shared directory, so the
            // outcome of every call is known; the directory's entries come from both mounts.
            let workers = mounts.indices.map { index in
                StormWorker(directory: "\(mounts[index])/storm", prefix: "w\(index)-", seed: seed &+ UInt64(index))
            }
            try await Task.sleep(for: .seconds(2))
            var reports: [String] = []
            for failover in [LocalCluster.Failover.killActiveMeta, .promotePostgres, .killActiveMeta] {
                reports.append("\(failover): \(try await cluster.failOver(failover))")
                try await Task.sleep(for: .seconds(2))
            }
            let outcomes = await workers.asyncMap { await $0.stop() }
            print("failovers: \(reports.joined(separator: "; "))")
            for (index, outcome) in outcomes.enumerated() {
                if !outcome.failures.isEmpty {
                    let path = index == 0 ? "\(cluster.directory)/logs/mount.log" : "\(second).log"
                    let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    print(log.split(separator: "\n").filter { !$0.contains(" trace ") }.suffix(20).joined(separator: "\n"))
                }
                print("mount \(index): \(outcome.operations) operations, longest \(outcome.longest), \(outcome.failures.count) failed")
                #expect(outcome.failures.isEmpty, "mount \(index): \(outcome.failures.prefix(5))")
            }
            if outcomes.contains(where: { !$0.failures.isEmpty }) { print(cluster.logTails()) }
            #expect(outcomes.allSatisfy { $0.operations >= 30 }, "the storm barely ran")
            var model = NamespaceModel()
            for outcome in outcomes {
                for (name, contents) in outcome.model.files { model.created(name, contents: contents) }
            }
            // Past the entry and attribute timeouts, so both mounts list from the service.
            try await Task.sleep(for: .seconds(1.5))
            for mount in mounts {
                let differences = try model.differences(from: "\(mount)/storm")
                #expect(differences.isEmpty, "\(mount): \(differences.prefix(10))")
            }
        }
    }
}

/// One mount's share of the storm, on a thread of its own (its calls block for a whole
/// failover, which must not hold a task of the cooperative pool): random creates (O_EXCL, then
/// a write of a few hundred bytes, one in eight up to 100 KiB), renames (to a new name or over one of its
/// own) and unlinks of its own names, each applied to its model only when the call succeeded.
final class StormWorker: Sendable {
    struct Outcome: Sendable {
        var model = NamespaceModel()
        var operations = 0
        var failures: [String] = []
        var longest: Duration = .zero
        var stopped = false
        var finished = false
    }

    let outcome = Mutex(Outcome())

    init(directory: String, prefix: String, seed: UInt64) {
        let thread = Thread { [self] in
            var random = SeededGenerator(seed: seed)
            var names: [String] = []
            var next = 0
            func fresh() -> String {
                next += 1
                return "\(prefix)\(next)"
            }
            while !outcome.withLock({ $0.stopped }) {
                let started = ContinuousClock.now
                let choice = names.count < 5 ? 0 : random.next(10)
                var failure: String?
                if choice < 5 {
                    let name = fresh()
                    let size = random.next(8) == 0 ? 1 + random.next(100 << 10) : 1 + random.next(600)
                    let contents = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ next) }
                    failure = Self.create("\(directory)/\(name)", contents: contents)
                    if failure == nil {
                        names.append(name)
                        outcome.withLock { $0.model.created(name, contents: contents) }
                    }
                } else if choice < 8 {
                    let from = names.remove(at: random.next(names.count))
                    let over = random.next(3) == 0 && !names.isEmpty
                    let to = over ? names.remove(at: random.next(names.count)) : fresh()
                    if rename("\(directory)/\(from)", "\(directory)/\(to)") == 0 {
                        names.append(to)
                        outcome.withLock { $0.model.renamed(from, to: to) }
                    } else {
                        failure = "rename \(from) -> \(to): \(String(cString: strerror(errno)))"
                        names.append(from)
                        if over { names.append(to) }
                    }
                } else {
                    let name = names.remove(at: random.next(names.count))
                    if unlink("\(directory)/\(name)") == 0 {
                        outcome.withLock { $0.model.unlinked(name) }
                    } else {
                        failure = "unlink \(name): \(String(cString: strerror(errno)))"
                        names.append(name)
                    }
                }
                let took = started.duration(to: .now)
                outcome.withLock { outcome in
                    outcome.operations += 1
                    outcome.longest = max(outcome.longest, took)
                    if let failure { outcome.failures.append(failure) }
                }
                usleep(5_000)
            }
            outcome.withLock { $0.finished = true }
        }
        thread.start()
    }

    /// Creates `path` exclusively and writes `contents`; nil, or what failed.
    static func create(_ path: String, contents: [UInt8]) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { return "create \(path): \(String(cString: strerror(errno)))" }
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let writeError = errno
        let closed = close(descriptor)
        if written != contents.count { return "write \(path): \(written) of \(contents.count) (\(String(cString: strerror(writeError))))" }
        if closed != 0 { return "close \(path): \(String(cString: strerror(errno)))" }
        return nil
    }

    /// Stops the worker (waiting up to `timeout` for the call in progress) and returns what it did.
    func stop(timeout: Duration = .seconds(120)) async -> Outcome {
        outcome.withLock { $0.stopped = true }
        let deadline = ContinuousClock.now + timeout
        while !outcome.withLock({ $0.finished }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return outcome.withLock { $0 }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
