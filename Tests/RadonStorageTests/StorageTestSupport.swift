import Foundation
import Logging
import NIOCore
import RadonCodec
@testable import RadonStorage
import RadonTestSupport
import RadonWire
import Testing

/// A fresh directory under /tmp, removed by `remove()`.
func temporaryDirectory(_ label: String) -> String {
    let path = NSTemporaryDirectory() + "radon-\(label)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A storage daemon in this process on a loopback port the system picks, with a client to it.
struct TestStorageNode {
    let daemon: StorageDaemon
    let client: StorageClient
    let key: ClusterKey
    let directory: String

    static func start(directory: String? = nil, key: ClusterKey = .generate()) async throws -> TestStorageNode {
        let directory = directory ?? temporaryDirectory("storage")
        var logger = Logger(label: "test.storage")
        logger.logLevel = .warning
        let daemon = try await StorageDaemon.start(
            .init(directory: directory, listen: WireAddress(host: "127.0.0.1", port: 0), credentials: .sharedKey(key)), logger: logger
        )
        let connection = try await WireConnection.connect(to: daemon.address, credentials: .sharedKey(key))
        return TestStorageNode(daemon: daemon, client: StorageClient(connection: connection), key: key, directory: directory)
    }

    func stop(removingData: Bool = true) async {
        client.connection.close()
        await daemon.stop()
        if removingData { try? FileManager.default.removeItem(atPath: directory) }
    }
}

/// Deterministic fragment bytes for block `block` of version `version`.
func fragmentBytes(block: UInt64, version: UInt64, count: Int) -> [UInt8] {
    var state = block &* 0x9E37_79B9_7F4A_7C15 &+ version &* 0xBF58_476D_1CE4_E5B9 | 1
    var bytes = [UInt8](repeating: 0, count: count)
    // Eight bytes per step through a raw pointer: debug builds make per-byte closures crawl.
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state) { word in
                let length = min(8, raw.count - offset)
                raw.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: length)
            }
            offset += 8
        }
    }
    return bytes
}

extension StoredFragment {
    var bytesArray: [UInt8]? {
        if case let .present(_, _, bytes, _) = self { Array(bytes.readableBytesView) } else { nil }
    }

    /// A whole fragment as a read serves it: with the CRC32C of its bytes.
    static func intact(version: UInt64, effectiveLength: UInt32, bytes: ByteBuffer) -> StoredFragment {
        .present(version: version, effectiveLength: effectiveLength, bytes: bytes,
                 checksum: bytes.withUnsafeReadableBytes { CRC32C.checksum($0) })
    }
}

/// Runs `body` with the node, stopping it afterwards even when `body` throws.
func withStorageNode<T>(directory: String? = nil, _ body: (TestStorageNode) async throws -> T) async throws -> T {
    let node = try await TestStorageNode.start(directory: directory)
    do {
        let result = try await body(node)
        await node.stop(removingData: directory == nil)
        return result
    } catch {
        await node.stop(removingData: directory == nil)
        throw error
    }
}

/// `radonfs storage --insecure` as a separate process on a free loopback port, its stderr in
/// `logPath`: the daemon as an operator runs it. The caller kills it.
struct StorageProcess {
    let process: Process
    let address: WireAddress
    let key: ClusterKey
    let logPath: String

    static func start(directory: String, extraArguments: [String] = []) async throws -> StorageProcess {
        let key = ClusterKey.generate()
        try key.write(to: "\(directory)/cluster.key")
        let logPath = "\(directory)/storage.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RadonBinary.path)
        process.arguments = [
            "storage", "--dir", "\(directory)/data", "--listen", "127.0.0.1:0", "--insecure", "--key-file", "\(directory)/cluster.key",
            "--port-file", "\(directory)/storage.port", "--log-level", "info",
        ] + extraArguments
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        // A daemon starting while the rest of the suite loads both cores can take a while.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: "\(directory)/storage.port", encoding: .utf8),
               let address = WireAddress(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return StorageProcess(process: process, address: address, key: key, logPath: logPath)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw WireError(.timedOut, "the storage daemon did not start; its log:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    func killIfRunning() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Flips the bits of `mask` in the byte at `offset` of the file at `path`: rot on a daemon's disk.
func flipBits(in path: String, at offset: Int, mask: UInt8) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let old = try #require(try handle.read(upToCount: 1)).first!
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [old ^ mask])
}
