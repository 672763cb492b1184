import Crypto
import Foundation
import Logging
import RadonClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real local cluster for one healing test: `radonfs up --no-mount` in a fresh /tmp
/// directory with short liveness timings (through the environment the metadata service
/// reads), torn down and removed afterwards whatever happens.
final class HealingCluster: HealingHarness, Sendable {
    struct State: Decodable {
        struct Daemon: Decodable {
            var pid: Int32
            var address: String
            var dataPath: String
        }
        var keyFile: String
        var meta: Daemon
        var storage: [Daemon]
    }

    let directory: String
    let environment: [String: String]

    /// The `radonfs` binary of this build.
    static let binary: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let debug = url.appendingPathComponent(".build/debug/radonfs").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : url.appendingPathComponent(".build/release/radonfs").path
    }()

    init(directory: String, environment: [String: String]) {
        self.directory = directory
        self.environment = environment
    }

    /// Starts a cluster (down after `downAfter` s of silence (heartbeats come every 2 s), lost after `lostAfter`), runs `body`, and
    /// always kills every process and removes the directory.
    static func with(
        nodes: Int, lostAfter: Double = 600, downAfter: Double = 5, environment extra: [String: String] = [:],
        _ body: (HealingCluster) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-heal-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = HealingCluster(directory: directory, environment: [
            "RADONFS_DOWN_AFTER": "\(downAfter)", "RADONFS_LOST_AFTER": "\(lostAfter)",
        ].merging(extra) { _, new in new })
        defer {
            cluster.killEverything()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try cluster.run(["up", "--dir", directory, "--no-mount", "--nodes", "\(nodes)", "--layout", "4+2", "--block-size", "\(64 << 10)"])
        try await body(cluster)
        try cluster.run(["down", "--dir", directory, "--grace", "5"])
    }

    /// Runs `radonfs` with `arguments`; throws with its output when it fails.
    @discardableResult
    func run(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // A file, not a pipe: the daemons `up` starts outlive it and must not hold our pipe open.
        let outputPath = "\(directory).\(UUID().uuidString.prefix(6)).out"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 || allowFailure else {
            throw HealingTestFailure("radonfs \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n\(text)")
        }
        return text
    }

    func state() throws -> State {
        try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/cluster.json")))
    }

    func client() async throws -> RadonFileSystemClient {
        let state = try state()
        var logger = Logger(label: "test.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(
            meta: try #require(WireAddress(state.meta.address)), key: ClusterKey(contentsOf: state.keyFile), logger: logger)
    }

    /// A client of the metadata service alone.
    func meta() async throws -> (MetaClient, WireConnectionPool) {
        let state = try state()
        let pool = WireConnectionPool(key: try ClusterKey(contentsOf: state.keyFile))
        return (MetaClient(connection: try await pool.connection(to: try #require(WireAddress(state.meta.address)))), pool)
    }

    /// SIGKILLs storage daemon `index` (position in cluster.json) and waits until it is gone.
    func killStorage(_ index: Int) throws {
        let pid = try state().storage[index].pid
        kill(pid, SIGKILL)
        for _ in 0..<300 where Self.isRunning(pid) { usleep(10_000) }
    }

    /// The node id the metadata service gave storage daemon `index` (matched by data directory).
    func nodeID(ofStorage index: Int) async throws -> UInt32 {
        let dataPath = try state().storage[index].dataPath
        let (meta, pool) = try await meta()
        defer { Task { await pool.closeAll() } }
        let nodes = try await meta.nodes()
        return try #require(nodes.first { $0.dataDirectory == dataPath || dataPath.hasSuffix($0.dataDirectory) || $0.dataDirectory.hasSuffix(dataPath) }).id
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    func killEverything() {
        guard let state = try? state() else { return }
        for pid in state.storage.map(\.pid) + [state.meta.pid] where pid > 0 { kill(pid, SIGKILL) }
    }
}


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
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition(meta)) == true { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw HealingTestFailure("timed out waiting for \(what)")
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

struct HealingTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (SplitMix64).
func healingPattern(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8](repeating: 0, count: count)
    for offset in stride(from: 0, to: count, by: 8) {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for byte in 0..<min(8, count - offset) { bytes[offset + byte] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(byte))) }
    }
    return bytes
}

func digest(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

extension RadonFileSystemClient {
    /// Creates `name` in the root with `bytes` and closes it: when this returns, it is acknowledged.
    func store(_ name: String, _ bytes: [UInt8]) async throws {
        let (_, handle) = try await create(
            parent: 1, name: name, permissions: 0o644, flags: OpenFlags(read: false, write: true, truncate: true),
            exclusive: false, context: .root)
        do {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + (1 << 20))
                _ = try await write(handle, offset: UInt64(offset), bytes: Array(bytes[offset..<end]))
                offset = end
            }
            try await release(handle)
        } catch {
            try? await release(handle)
            throw error
        }
    }

    /// The whole content of root entry `name`.
    func load(_ name: String) async throws -> [UInt8] {
        let attributes = try await lookup(parent: 1, name: name, context: .root)
        let handle = try await open(attributes.inode, flags: OpenFlags(read: true, write: false), context: .root)
        defer { Task { try? await release(handle) } }
        var result: [UInt8] = []
        while true {
            let chunk = try await read(handle, offset: UInt64(result.count), count: 1 << 20)
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }
}
