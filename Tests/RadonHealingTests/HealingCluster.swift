import RadonTestSupport
import RadonClient

/// A real local cluster for one healing test: `radonfs up --no-mount` (4+2, 64 KiB blocks) in
/// a fresh /tmp directory with short liveness timings (through the environment the metadata
/// service reads), torn down and removed afterwards whatever happens.
enum HealingCluster {
    /// Starts a cluster (down after `downAfter` s of silence (heartbeats come every 2 s), lost
    /// after `lostAfter`), runs `body`, and always kills every process and removes the directory.
    static func with(
        nodes: Int, lostAfter: Double = 600, downAfter: Double = 5, environment extra: [String: String] = [:],
        _ body: (LocalCluster) async throws -> Void
    ) async throws {
        let environment = ["RADONFS_DOWN_AFTER": "\(downAfter)", "RADONFS_LOST_AFTER": "\(lostAfter)"].merging(extra) { _, new in new }
        try await LocalCluster.with(
            directoryPrefix: "radonfs-heal", nodes: nodes, layout: "4+2", blockSize: 64 << 10, environment: environment,
            // Removed files go at once, as fsck's and the healing tests' counts expect.
            killWaitPolls: 300, upArguments: ["--trash-retention", "0"], body)
    }
}

extension LocalCluster: HealingHarness {}

/// What the healing waits need of a test cluster: a client of its metadata service.
protocol HealingHarness: Sendable {
    func meta() async throws -> (MetaClient, WireConnectionPool)
}

extension HealingHarness {
    /// Waits until `condition` holds on the metadata service's view, or fails after `timeout`.
    func wait(
        _ what: String, timeout: Duration = .seconds(120), _ condition: (MetaClient) async throws -> Bool
    ) async throws {
        let (meta, pool) = try await meta()
        defer { Task { await pool.closeAll() } }
        try await poll(what, timeout: timeout) { try await condition(meta) }
    }

    /// Waits until there is at least one non-scrub healing job, all of them are finished, and the
    /// repair queue is empty.
    func waitForRebuild(timeout: Duration = .seconds(240)) async throws -> [HealingJob] {
        var finished: [HealingJob] = []
        try await wait("the rebuild to finish", timeout: timeout) { meta in
            let status = try await meta.healingStatus()
            let jobs = status.jobs.filter { $0.kind != .scrub }
            finished = jobs
            return !jobs.isEmpty && jobs.allSatisfy(\.state.isFinished) && status.pendingRepairs == 0
        }
        return finished
    }
}

extension RadonFileSystemClient {
    /// Creates `name` in the root with `bytes` and closes it: when this returns, it is acknowledged.
    func store(_ name: String, _ bytes: [UInt8]) async throws {
        try await writeFile(parent: 1, name: FileName(name), bytes: bytes)
    }

    /// The whole content of root entry `name`.
    func load(_ name: String) async throws -> [UInt8] {
        try await readFile(lookup(parent: 1, name: FileName(name), context: .root).inode)
    }
}
