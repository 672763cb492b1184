import Foundation
import Glibc
import Logging
import RadonClient
import RadonMeta
import RadonWire
import Synchronization
import Testing

/// How many metadata calls a small file costs through a real FUSE mount: the compound create
/// (open in the same call, the directory's attributes in the reply) and the mount's knowledge
/// that a new file has no file capability are speed, not behaviour, so nothing else would
/// notice if they stopped working. A real metadata service (SQLite) behind a loopback server
/// that counts what arrives; files stay inline, so no storage daemon is needed.
@Suite("Metadata calls per small file")
struct MetadataCallCountTests {
    @Test func aSmallFileCostsThreeCallsAndAnUnlinkOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-calls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "test.calls")
        logger.logLevel = .warning
        let store = try SQLMetadataStore(path: "\(directory)/meta.db")
        for index in 0..<6 {
            _ = try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "127.0.0.1", port: 9000 + index), hostID: "",
                dataDirectory: "/data/\(index)", pid: Int32(100 + index), capacity: 1 << 40, free: 1 << 40))
        }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 1 << 20, inlineThreshold: 64 << 10, groupCount: 8))
        let service = MetaService(store: store, logger: logger)
        let calls = CallCounter()
        let key = ClusterKey.generate()
        let server = try await WireServer.start(host: "127.0.0.1", port: 0, credentials: .sharedKey(key), logger: logger) { request in
            calls.count(request)
            return await service.handle(request)
        }
        let client = try await RadonFileSystemClient.connect(meta: server.localAddress, credentials: .sharedKey(key), logger: logger)
        let mount = try await InProcessMount.start(client)
        do {
            let files = (0..<20).map { "\(mount.path)/file-\($0)" }
            let bytes = [UInt8](repeating: 0x5A, count: 4096)
            try write(bytes, to: "\(mount.path)/first")  // the session opens here
            calls.reset()
            for file in files { try write(bytes, to: file) }
            let created = calls.reset()
            print("20 files created: \(created.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect(created[.create] == 20)
            #expect(created[.writeInline] == 20)
            #expect(created[.openFile] == nil, "the create opened the file")
            #expect(created[.getAttributes] == nil, "the directory's attributes came with each create")
            #expect(created[.getExtendedAttribute] == nil, "a new file has no security.capability to ask for")
            #expect((created[.lookup] ?? 0) <= 20, "one lookup of each new name at most")

            for file in files {
                guard unlink(file) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            }
            let removed = calls.reset()
            print("20 files removed: \(removed.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect(removed[.remove] == 20)
            #expect(removed[.getAttributes] == nil, "the directory's attributes came with each removal")
            for file in files { #expect(!FileManager.default.fileExists(atPath: file)) }
        } catch {
            try? await mount.stop()
            await client.close()
            try? await server.close()
            throw error
        }
        try await mount.stop()
        await client.close()
        try await server.close()
    }

    /// open(O_CREAT | O_EXCL), one write, close: what a program writing a small file does.
    private func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        guard Glibc.write(descriptor, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }
}

/// Metadata requests by opcode, identified ones (mutations) by the opcode they carry; the lock
/// guards the counts.
private final class CallCounter: Sendable {
    private let counts = Mutex<[MetaOpcode: Int]>([:])

    func count(_ request: WireRequest) {
        var opcode = MetaOpcode(rawValue: request.opcode)
        if opcode == .identified {
            var payload = request.payload
            opcode = (try? IdentifiedRequest(from: &payload)).flatMap { MetaOpcode(rawValue: $0.opcode) }
        }
        guard let opcode, opcode != .renewSession else { return }
        counts.withLock { $0[opcode, default: 0] += 1 }
    }

    /// The counts so far, which start again from zero.
    @discardableResult
    func reset() -> [MetaOpcode: Int] {
        counts.withLock { counts in
            defer { counts = [:] }
            return counts
        }
    }
}
