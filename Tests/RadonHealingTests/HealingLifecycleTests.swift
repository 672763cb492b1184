import Foundation
import RadonClient
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What happens around a rebuild: fragments left on a node a group moved away from, the
/// `--rate` throttle, and a daemon that restarts before it is even marked down.
@Suite(.serialized) struct HealingLifecycleTests {
    @Test("a removed node's fragments of groups that moved away are deleted, and everything still reads back")
    func staleFragmentsAreDeleted() async throws {
        try await HealingCluster.with(nodes: 7, environment: ["RADONFS_STALE_GRACE": "2"]) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            let digests = try await HealingTests.writeFiles(client, count: 10, prefix: "stale", seed: 900)
            let removedID = try await cluster.nodeID(ofStorage: 0)
            let removedData = try cluster.state().storage[0].dataPath
            let before = FragmentRot.fragmentFiles(under: removedData).count
            #expect(before > 0, "node \(removedID) held no fragments to begin with")

            try cluster.run(["node", "remove", "\(removedID)", "--dir", cluster.directory])
            let jobs = try await cluster.waitForRebuild()
            #expect(jobs.allSatisfy { $0.state == .done }, "jobs: \(jobs.filter { $0.state != .done }.map(\.message))")
            let (meta, pool) = try await cluster.meta()
            #expect(try await meta.groupMap().groups.allSatisfy { !$0.members.contains(removedID) })
            await pool.closeAll()

            // The node still runs; within its grace period plus a sweep it deletes what it holds.
            let deadline = ContinuousClock.now + .seconds(120)
            while !FragmentRot.fragmentFiles(under: removedData).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
            }
            let left = FragmentRot.fragmentFiles(under: removedData)
            #expect(left.isEmpty, "\(left.count) of \(before) fragment files are still on node \(removedID): \(left.prefix(3))")
            // Nothing else of those groups either (previous versions, temporary files).
            let anything = Self.filesInGroupDirectories(under: removedData)
            #expect(anything.isEmpty, "files left in group directories: \(anything.prefix(3))")
            try await cluster.wait("node \(removedID) to report no fragment files") { meta in
                try await meta.nodes().first { $0.id == removedID }?.fragmentCount == 0
            }
            // The members' fragments were not touched: everything reads back, even with two
            // current members down.
            try cluster.killStorage(1)
            try cluster.killStorage(2)
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await HealingTests.expectIdentical(reader, digests)
        }
    }

    /// Every regular file inside a `g<group>` directory under `root`.
    static func filesInGroupDirectories(under root: String) -> [String] {
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let parts = relative.split(separator: "/")
            var isDirectory: ObjCBool = false
            guard parts.count >= 2, parts[parts.count - 2].hasPrefix("g"),
                  FileManager.default.fileExists(atPath: "\(root)/\(relative)", isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files.append(relative)
        }
        return files
    }

    /// The crash issue 14 reported: with no rebuild job yet (the node not even marked down),
    /// the progress line divided zero bytes by zero seconds and trapped.
    @Test("rebuild --watch right after a node is killed, before any job exists, reports and exits")
    func watchWithoutAJobReports() async throws {
        try await HealingCluster.with(nodes: 6, downAfter: 600) { cluster in
            try cluster.killStorage(0)
            let output = try cluster.run(["rebuild", "--watch", "--dir", cluster.directory])
            #expect(output.contains("no rebuild job running or queued"), "\(output)")
        }
    }

    @Test("--rate throttles a rebuild: each worker reads no faster than the limit")
    func rateLimitsRebuild() async throws {
        try await HealingCluster.with(nodes: 7) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            _ = try await HealingTests.writeFiles(client, count: 24, prefix: "rate", seed: 1_200)
            let removedID = try await cluster.nodeID(ofStorage: 0)
            let rate = 0.1  // MB/s per storage node
            let started = ContinuousClock.now
            try cluster.run(["node", "remove", "\(removedID)", "--dir", cluster.directory, "--rate", "\(rate)"])
            let jobs = try await cluster.waitForRebuild(timeout: .seconds(600))
            let elapsed = ContinuousClock.now - started
            #expect(jobs.allSatisfy { $0.state == .done }, "jobs: \(jobs.filter { $0.state != .done }.map(\.message))")
            #expect(jobs.allSatisfy { $0.rateLimit == UInt64(rate * 1e6) }, "the jobs did not carry the rate")

            // One job per worker at a time, each held to `rate` since it started: a worker's
            // bytes take at least bytes / rate seconds, whatever else the machine does.
            var bytesByWorker: [UInt32: UInt64] = [:]
            for job in jobs { bytesByWorker[job.workerNodeID, default: 0] += job.bytesRead }
            let busiest = try #require(bytesByWorker.values.max())
            let floor = Double(busiest) / (rate * 1e6)
            let seconds = elapsed.seconds
            print(String(format: "rate test: busiest worker read %.2f MB in a %.1f s rebuild (%.3f MB/s, limit %.2f); unthrottled floor %.1f s",
                         Double(busiest) / 1e6, seconds, Double(busiest) / 1e6 / seconds, rate, floor))
            #expect(floor >= 4, "too little to read (\(busiest) bytes) for the throttle to show")
            #expect(seconds >= floor * 0.7, "the busiest worker read \(busiest) bytes in \(seconds) s: faster than \(rate) MB/s")
        }
    }

    @Test("a daemon restarted before it is marked down: what it missed is repaired and its stale fragments are never served")
    func restartBeforeDown() async throws {
        // Down only after 10 minutes: the node stays `up` in the registry throughout.
        try await HealingCluster.with(nodes: 6, downAfter: 600) { cluster in
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            var digests = try await HealingTests.writeFiles(client, count: 6, prefix: "first", seed: 2_000)
            let restartedID = try await cluster.nodeID(ofStorage: 3)
            try cluster.killStorage(3)

            // While it is dead (but still `up`): new files, and overwrites of old ones, land on
            // the other five (k+1) and the misses are recorded for repair.
            digests.merge(try await HealingTests.writeFiles(client, count: 6, prefix: "first", seed: 2_100)) { _, new in new }
            digests.merge(try await HealingTests.writeFiles(client, count: 4, prefix: "missed", seed: 2_200)) { _, new in new }
            let (meta, pool) = try await cluster.meta()
            defer { Task { await pool.closeAll() } }
            #expect(try await meta.nodes().first { $0.id == restartedID }?.state == .up, "the node was marked down: the test needs it not to be")

            try cluster.run(["up", "--dir", cluster.directory, "--no-mount"])
            // At once, before any repair: the restarted node holds the old versions of the
            // overwritten blocks, and they must not be read.
            let early = try await cluster.client()
            try await HealingTests.expectIdentical(early, digests)
            await early.close()

            let jobs = try await cluster.waitForRebuild().filter { $0.state == .done }
            let found = jobs.reduce(0) { $0 + $1.found }
            #expect(found > 0, "the restarted node missed writes, the repair found none")
            #expect(jobs.reduce(0) { $0 + $1.fixed } == found)
            #expect(try await meta.nodes().first { $0.id == restartedID }?.state == .up)

            // Proof: two other nodes die; the restarted node's fragments are now current.
            try cluster.killStorage(4)
            try cluster.killStorage(5)
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await HealingTests.expectIdentical(reader, digests)
        }
    }
}
