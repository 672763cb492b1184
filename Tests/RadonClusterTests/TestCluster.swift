import Crypto
import Foundation
import Logging
import RadonClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real local cluster for one test: `radonfs up --no-mount` in a fresh /tmp directory, the
/// built binary's own processes on loopback, torn down (and the directory removed) afterwards.
final class TestCluster: Sendable {
    /// What the tests read of DIR/cluster.json (the launcher's full record has more).
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
    let blockSize: Int

    /// The `radonfs` binary of this build: .build/debug/radonfs under the package root.
    static let binary: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let debug = url.appendingPathComponent(".build/debug/radonfs").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : url.appendingPathComponent(".build/release/radonfs").path
    }()

    init(directory: String, blockSize: Int) {
        self.directory = directory
        self.blockSize = blockSize
    }

    /// Starts a cluster, runs `body`, and always stops it and removes its directory.
    static func with(
        nodes: Int = 6, layout: String = "4+2", blockSize: Int = 64 << 10, environment: [String: String] = [:],
        prepare: (String) throws -> Void = { _ in },
        cleanup: (String) -> Void = { _ in }, _ body: (TestCluster) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = TestCluster(directory: directory, blockSize: blockSize)
        defer {
            cluster.killEverything()
            cleanup(directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
        try prepare(directory)
        try cluster.run(["up", "--dir", directory, "--no-mount", "--nodes", "\(nodes)", "--layout", layout, "--block-size", "\(blockSize)"],
                        environment: environment)
        try await body(cluster)
        try cluster.run(["down", "--dir", directory, "--grace", "5"])
    }

    /// Runs `radonfs` with `arguments` (and `environment` added to ours) and waits; throws
    /// with its output when it fails.
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
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
        guard process.terminationStatus == 0 else {
            throw TestFailure("radonfs \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n\(text)")
        }
        return text
    }

    func state() throws -> State {
        try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/cluster.json")))
    }

    /// A fresh client core connected to this cluster.
    func client() async throws -> RadonFileSystemClient {
        let state = try state()
        var logger = Logger(label: "test.client")
        logger.logLevel = .error
        return try await RadonFileSystemClient.connect(
            meta: try #require(WireAddress(state.meta.address)), key: ClusterKey(contentsOf: state.keyFile), logger: logger)
    }

    /// SIGKILLs storage daemon `index` and waits until it is gone.
    func killStorage(_ index: Int) throws {
        try killAndWait(state().storage[index].pid)
    }

    func killMeta() throws {
        try killAndWait(state().meta.pid)
    }

    /// Restarts whatever is not running (the same data and ports), as a user would: `up` again.
    func restart() throws {
        try run(["up", "--dir", directory, "--no-mount"])
    }

    private func killAndWait(_ pid: Int32) {
        kill(pid, SIGKILL)
        for _ in 0..<200 where Self.isRunning(pid) {
            usleep(10_000)
        }
    }

    /// Alive and not a zombie (the daemons' parent, `radonfs up`, has exited; whoever adopted
    /// them may reap late).
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    /// Last resort after a failed test: no process of this cluster survives it.
    func killEverything() {
        guard let state = try? state() else { return }
        for pid in state.storage.map(\.pid) + [state.meta.pid] where pid > 0 {
            kill(pid, SIGKILL)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (SplitMix64), so a failing size is reproducible.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { word in
                let length = min(8, count - offset)
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: length)
            }
            offset += 8
        }
    }
    return bytes
}

func sha256(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

extension RadonFileSystemClient {
    /// Creates (or replaces) `name` in `parent` with `bytes`, written in 1 MiB requests, and
    /// closes it: when this returns, the file is acknowledged.
    @discardableResult
    func writeFile(parent: UInt64, name: String, bytes: [UInt8]) async throws -> InodeAttributes {
        let (attributes, handle) = try await create(
            parent: parent, name: name, permissions: 0o644, flags: OpenFlags(read: false, write: true, truncate: true),
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
        return attributes
    }

    /// The whole content of `inode`, read in 1 MiB requests.
    func readFile(_ inode: UInt64) async throws -> [UInt8] {
        let handle = try await open(inode, flags: OpenFlags(read: true, write: false), context: .root)
        defer { Task { try? await release(handle) } }
        var result: [UInt8] = []
        while true {
            let chunk = try await read(handle, offset: UInt64(result.count), count: 1 << 20)
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    /// Walks `path` from the root.
    func resolve(_ path: String) async throws -> InodeAttributes {
        var current = try await attributes(of: 1)
        for name in path.split(separator: "/") {
            current = try await lookup(parent: current.inode, name: String(name), context: .root)
        }
        return current
    }
}
