import Foundation
import Glibc
import Logging
import RadonClient
import RadonMeta
import RadonWire
import Synchronization
import Testing

/// How many metadata calls a small file and a directory scan cost through a real FUSE mount:
/// the compound create (open in the same call, the directory's attributes in the reply), the
/// mount's knowledge that a new file has no file capability and lookahead are speed, not
/// behaviour, so nothing else would notice if they stopped working. A real metadata service (SQLite) behind a loopback server
/// that counts what arrives; files stay inline, so no storage daemon is needed.
@Suite("Metadata calls per small file")
struct MetadataCallCountTests {
    @Test func aSmallFileCostsThreeCallsAndAnUnlinkOne() async throws {
        try await Self.withCountedService { calls, mountClient in
            let mount = try await mountClient()
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
            #expect((created[.lookup] ?? 0) + (created[.lookupAhead] ?? 0) <= 20, "one lookup of each new name at most")

            for file in files {
                guard unlink(file) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            }
            let removed = calls.reset()
            print("20 files removed: \(removed.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect(removed[.remove] == 20)
            #expect(removed[.getAttributes] == nil, "the directory's attributes came with each removal")
            for file in files { #expect(!FileManager.default.fileExists(atPath: file)) }
        }
    }

    /// Two mounts (two clients) of one service: one writes a directory, the other stats every
    /// file in it as `ls -l` without readdirplus or `find` would. The scan is answered from
    /// lookahead windows, so it costs a few lookups, not one per file; and what the scanning
    /// mount sees is exact: its own changes at once, the other mount's once the 1 s windows
    /// and kernel timeouts have passed.
    @Test func aDirectoryScanIsAnsweredAheadAndSeesEveryChange() async throws {
        try await Self.withCountedService { calls, mountClient in
            let writer = try await mountClient()
            let scanner = try await mountClient()
            let names = (0..<300).map { String(format: "file-%03d", $0) }
            try FileManager.default.createDirectory(atPath: "\(writer.path)/scan", withIntermediateDirectories: false)
            for (index, name) in names.enumerated() {
                try write([UInt8](repeating: 1, count: index + 1), to: "\(writer.path)/scan/\(name)")
            }
            let truth = try names.map { try status("\(writer.path)/scan/\($0)").st_ino }
            _ = try status("\(scanner.path)/scan")
            calls.reset()
            for (index, name) in names.enumerated() {
                let seen = try status("\(scanner.path)/scan/\(name)")
                #expect(seen.st_ino == truth[index] && seen.st_size == index + 1, "\(name) as the scanning mount sees it")
            }
            let scanned = calls.reset()
            print("300 files stat-ed by the other mount: \(scanned.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect((scanned[.lookupAhead] ?? 0) >= 1, "the scan was asked ahead")
            // Three plain lookups, then windows of 64, 128 and 256.
            #expect(scanned.values.reduce(0, +) <= 20, "a call per window, not per file")

            // Deleting them all, once the kernel's entries and the windows have expired: each
            // unlink's lookup comes from a window too, which the unlink keeps for the next.
            try await Task.sleep(for: .milliseconds(1100))
            calls.reset()
            for name in names { #expect(unlink("\(scanner.path)/scan/\(name)") == 0, "unlink \(name)") }
            let deleted = calls.reset()
            print("300 files deleted by the other mount: \(deleted.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect(deleted[.remove] == 300)
            #expect((deleted[.lookup] ?? 0) + (deleted[.lookupAhead] ?? 0) <= 20, "a lookup per window, not per unlink")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(writer.path)/scan").isEmpty)

            // A fresh directory, so the windows are live: the scanner's own unlink is seen at once.
            try FileManager.default.createDirectory(atPath: "\(writer.path)/fresh", withIntermediateDirectories: false)
            for name in names.prefix(100) { try write([1, 2, 3], to: "\(writer.path)/fresh/\(name)") }
            for name in names.prefix(6) { _ = try status("\(scanner.path)/fresh/\(name)") }
            #expect(unlink("\(scanner.path)/fresh/file-030") == 0)
            #expect(throws: POSIXError(.ENOENT)) { try status("\(scanner.path)/fresh/file-030") }
            #expect(try status("\(scanner.path)/fresh/file-031").st_size == 3)
            // The writer's unlink and truncate: seen once 1 s has passed.
            for name in names.prefix(40).suffix(5) { _ = try status("\(scanner.path)/fresh/\(name)") }
            #expect(unlink("\(writer.path)/fresh/file-050") == 0)
            #expect(truncate("\(writer.path)/fresh/file-051", 7) == 0)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(throws: POSIXError(.ENOENT)) { try status("\(scanner.path)/fresh/file-050") }
            #expect(try status("\(scanner.path)/fresh/file-051").st_size == 7)
        }
    }

    /// Two mounts of one service. One makes files in a directory, one by one; a file the other
    /// mount makes and closes there meanwhile opens at once on the first: close-to-open holds
    /// for new names too, because a lookup that finds nothing is always the service's answer,
    /// never a cache's (a client listing the directory to answer its creates' lookups itself
    /// would say "absent" here). Then the other mount unlinks names it never looked at, one by
    /// one: a scan too, asked ahead from its third lookup.
    @Test func newNamesFromAnotherMountAreSeenAtOnceAndUnlinkingNameByNameIsAScan() async throws {
        try await Self.withCountedService { calls, mountClient in
            let maker = try await mountClient()
            let other = try await mountClient()
            try FileManager.default.createDirectory(atPath: "\(maker.path)/fill", withIntermediateDirectories: false)
            for index in 0..<300 {
                try write([1, 2, 3], to: "\(maker.path)/fill/" + String(format: "file-%03d", index))
                if index % 50 == 49 {
                    try write(Array("theirs".utf8), to: "\(other.path)/fill/theirs-\(index)")
                    #expect(try status("\(maker.path)/fill/theirs-\(index)").st_size == 6, "made and closed on the other mount")
                }
            }
            calls.reset()
            for index in 100..<300 { #expect(unlink("\(other.path)/fill/" + String(format: "file-%03d", index)) == 0) }
            let unlinked = calls.reset()
            print("200 files unlinked by a mount that never looked them up: \(unlinked.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" })")
            #expect(unlinked[.remove] == 200)
            #expect((unlinked[.lookup] ?? 0) + (unlinked[.lookupAhead] ?? 0) <= 20, "a lookup per window, not per unlink")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(maker.path)/fill").count == 106)
        }
    }

    /// A metadata service on SQLite behind a loopback server that counts what arrives, and a
    /// way to mount it (in this process, through the kernel) from a new client each time.
    static func withCountedService(
        _ body: (CallCounter, () async throws -> InProcessMount) async throws -> Void
    ) async throws {
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
        var mounted: [(RadonFileSystemClient, InProcessMount)] = []
        func mountClient() async throws -> InProcessMount {
            let client = try await RadonFileSystemClient.connect(meta: server.localAddress, credentials: .sharedKey(key), logger: logger)
            do {
                let mount = try await InProcessMount.start(client)
                mounted.append((client, mount))
                return mount
            } catch {
                await client.close()
                throw error
            }
        }
        var failure: (any Error)?
        do { try await body(calls, mountClient) } catch { failure = error }
        for (client, mount) in mounted.reversed() {
            try? await mount.stop()
            await client.close()
        }
        try? await server.close()
        if let failure { throw failure }
    }

    /// lstat(2).
    private func status(_ path: String) throws -> stat {
        var information = stat()
        guard lstat(path, &information) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return information
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
final class CallCounter: Sendable {
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
