import Foundation
import RadonClient
import Synchronization
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A storage daemon cut off from the network (its own network namespace, the link brought
/// down mid-load), not killed.
@Suite(.serialized) struct NetworkCutTests {
    /// What a write-and-read load saw: every operation's duration, wrong bytes, errors.
    struct LoadOutcome: Sendable {
        var digests: [String: String] = [:]
        var slowest: Duration = .zero
        var wrongReads: [String] = []
        var errors: [String] = []
        var operations = 0
    }

    /// Shared between the test and its load task: the stop flag and the iteration count.
    final class LoadControl: Sendable {
        let stop = Atomic<Bool>(false)
        let iterations = Atomic<Int>(0)
    }

    /// Writes `net-<i>` files and reads an earlier file back after each, until `stop` is set.
    static func runLoad(_ client: RadonFileSystemClient, known: [String: String], control: LoadControl) async -> LoadOutcome {
        var outcome = LoadOutcome()
        outcome.digests = known
        var index = 0
        while !control.stop.load(ordering: .relaxed) {
            let name = "net-\(index)"
            let bytes = patternBytes(count: (2 + index % 5) * (64 << 10) + (index * 7_919) % (64 << 10), seed: 5_000 + UInt64(index))
            let started = ContinuousClock.now
            do {
                try await client.store(name, bytes)
                outcome.digests[name] = sha256(bytes)
            } catch {
                outcome.errors.append("write \(name): \(error)")
            }
            outcome.slowest = max(outcome.slowest, ContinuousClock.now - started)
            let names = outcome.digests.keys.sorted()
            let readName = names[(index * 31) % names.count]
            let readStarted = ContinuousClock.now
            do {
                if sha256(try await client.load(readName)) != outcome.digests[readName] { outcome.wrongReads.append(readName) }
            } catch {
                outcome.errors.append("read \(readName): \(error)")
            }
            outcome.slowest = max(outcome.slowest, ContinuousClock.now - readStarted)
            outcome.operations += 2
            index += 1
            control.iterations.store(index, ordering: .relaxed)
        }
        return outcome
    }

    @Test("a daemon whose link goes down mid-load is marked down, clients neither hang nor read wrong bytes, and it is resynchronised when the link returns")
    func linkCutMidLoad() async throws {
        try await NetworkNamespaceCluster.with(hostNodes: 5) { cluster in
            let cutID = try await cluster.nodeID(ofStorage: 5)
            let client = try await cluster.client()
            defer { Task { await client.close() } }
            let before = try await HealingTests.writeFiles(client, count: 6, prefix: "before", seed: 300)

            let control = LoadControl()
            let load = Task { await Self.runLoad(client, known: before, control: control) }
            defer { control.stop.store(true, ordering: .relaxed) }
            while control.iterations.load(ordering: .relaxed) < 3 { try await Task.sleep(for: .milliseconds(100)) }

            try cluster.namespace.setLink(up: false)
            try await cluster.wait("node \(cutID) to be marked down after its link went down", timeout: .seconds(90)) { meta in
                try await meta.nodes().first { $0.id == cutID }?.state == .down
            }
            let atDown = control.iterations.load(ordering: .relaxed)
            let deadline = ContinuousClock.now + .seconds(240)
            while control.iterations.load(ordering: .relaxed) < atDown + 8, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            control.stop.store(true, ordering: .relaxed)
            let outcome = await load.value
            #expect(LocalProcess.isRunning(cluster.namespacedPid), "the cut daemon must still run: this is a cut, not a kill")
            #expect(outcome.wrongReads.isEmpty, "wrong bytes read: \(outcome.wrongReads)")
            #expect(outcome.errors.isEmpty, "operations failed during the cut: \(outcome.errors.prefix(5))")
            // The client's longest storage timeout is 30 s (writes); nothing may wait longer.
            #expect(outcome.slowest < .seconds(40), "an operation took \(outcome.slowest)")
            #expect(control.iterations.load(ordering: .relaxed) >= atDown + 8, "the load stalled while the node was cut off")

            // The link comes back: the node is up again and what it missed is repaired.
            try cluster.namespace.setLink(up: true)
            try await cluster.wait("node \(cutID) to be up again", timeout: .seconds(90)) { meta in
                try await meta.nodes().first { $0.id == cutID }?.state == .up
            }
            let jobs = try await cluster.waitForRebuild(timeout: .seconds(300)).filter { $0.state == .done }
            let found = jobs.reduce(0) { $0 + $1.found }
            #expect(found > 0, "the cut node missed writes, the resync found none")
            #expect(jobs.reduce(0) { $0 + $1.fixed } == found)
            print("network cut: \(outcome.operations) operations, \(control.iterations.load(ordering: .relaxed) - atDown) iterations after the node was marked down, slowest \(outcome.slowest), resync found \(found) fragments to repair")

            // Proof: two other nodes die; everything, including what the cut node missed, reads back.
            cluster.killStorage(0)
            cluster.killStorage(1)
            let reader = try await cluster.client()
            defer { Task { await reader.close() } }
            try await HealingTests.expectIdentical(reader, outcome.digests)
        }
    }
}
