import Foundation
import RadonTestSupport
import RadonWire
import Synchronization
import Testing

/// A `radonfs meta` process started from the package's debug build.
final class MetaDaemon: Sendable {
    let process: Process
    let address: WireAddress
    let logPath: String

    /// The built binary: `swift build` must have run (the test says so if it has not).
    static var binaryPath: String { RadonBinary.path }

    init(database: String, keyFile: String, directory: String, run: Int, durability: String = "full", logLevel: String = "warning") async throws {
        let binary = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw FileSystemError.notFound("\(binary) is missing: run `swift build` first")
        }
        let portFile = "\(directory)/port.\(run)"
        logPath = "\(directory)/meta.\(run).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "meta", "--db", database, "--listen", "127.0.0.1:0", "--insecure", "--key-file", keyFile, "--port-file", portFile,
            "--log-level", logLevel, "--durability", durability,
        ]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        // Over PostgreSQL the daemon elects itself through a lease: a short one, so a daemon
        // started after a SIGKILLed one takes over within a second or so.
        process.environment = ProcessInfo.processInfo.environment.merging(["RADONFS_META_LEASE": "1"]) { _, new in new }
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        var found: WireAddress?
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let address = WireAddress(text) {
                found = address
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw FileSystemError.timedOut("radonfs meta did not write its port file; log:\n\(log)")
        }
        address = found
        // It serves once elected (at once over SQLite); until then it answers notActive.
        let key = try ClusterKey(contentsOf: keyFile)
        while true {
            do {
                let connection = try await WireConnection.connect(to: found, credentials: .sharedKey(key))
                defer { connection.close() }
                _ = try await MetaClient(connection: connection).status()
                break
            } catch let error as WireError where error.status == .notActive && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func stop(signal: Int32 = SIGKILL) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
        process.waitUntilExit()
    }
}

/// What the service has acknowledged, shared by the writer tasks.
final class AcknowledgedChanges: Sendable {
    private let changes = Mutex<[String: [UInt8]]>([:])
    func record(_ name: String, _ bytes: [UInt8]) { changes.withLock { $0[name] = bytes } }
    var count: Int { changes.withLock { $0.count } }
    var all: [String: [UInt8]] { changes.withLock { $0 } }
}

@Suite("radonfs meta process", .serialized)
struct MetaDaemonDurabilityTests {
    let root: UInt64 = 1

    /// Creates (with inline data) stream in from 8 tasks; the daemon gets SIGKILL mid-stream;
    /// after a restart on the same database, every acknowledged file is there with its bytes.
    /// "postgres" runs the daemon with `--db postgres://...` on the test server.
    @Test(arguments: ["full", "normal", "postgres"])
    func everyAcknowledgedChangeSurvivesSIGKILL(durability: String) async throws {
        let directory = try TemporaryDirectory()
        let keyFile = directory.path + "/cluster.key"
        let key = ClusterKey.generate()
        try key.write(to: keyFile)
        let database = durability == "postgres" ? try await PostgresTestServer.freshDatabase() : directory.path + "/meta/meta.db"
        let durability = durability == "postgres" ? "full" : durability

        let first = try await MetaDaemon(database: database, keyFile: keyFile, directory: directory.path, run: 1, durability: durability)
        defer { first.stop() }
        let connection = try await WireConnection.connect(to: first.address, credentials: .sharedKey(key))
        let client = MetaClient(connection: connection, timeout: .seconds(10))
        let workDirectory = try await client.makeDirectory(parent: root, name: "work", permissions: 0o755, caller: .root)
        let acknowledged = AcknowledgedChanges()

        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        var index = 0
                        while true {
                            let name = "f-\(lane)-\(index)"
                            let bytes = Array("\(name) payload".utf8)
                            do {
                                let created = try await client.create(parent: workDirectory.inode, name: FileName(name), permissions: 0o644, exclusive: true, caller: .root)
                                let written = try await client.writeInline(created.attributes.inode, offset: 0, bytes: bytes)
                                guard written.stored else { return }
                                acknowledged.record(name, bytes)
                            } catch {
                                return  // the daemon died under us
                            }
                            index += 1
                        }
                    }
                }
            }
        }
        // Let a few hundred changes through, then kill at an arbitrary instant.
        let deadline = ContinuousClock.now + .seconds(20)
        while acknowledged.count < 300, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        first.stop(signal: SIGKILL)
        await writers.value
        connection.close()
        let kept = acknowledged.all
        #expect(kept.count >= 300, "the stream ran before the kill")

        let second = try await MetaDaemon(database: database, keyFile: keyFile, directory: directory.path, run: 2, durability: durability)
        defer { second.stop(signal: SIGTERM) }
        let reconnected = try await WireConnection.connect(to: second.address, credentials: .sharedKey(key))
        defer { reconnected.close() }
        let after = MetaClient(connection: reconnected)
        let work = try await after.lookup(parent: root, name: "work", caller: .root)
        var missing: [String] = []
        for (name, bytes) in kept {
            do {
                let attributes = try await after.lookup(parent: work.inode, name: FileName(name), caller: .root)
                let inline = try await after.readInline(of: attributes.inode)
                if inline.bytes != bytes { missing.append("\(name) (bytes differ)") }
            } catch {
                missing.append("\(name) (\(error))")
            }
        }
        #expect(missing.isEmpty, "acknowledged but lost after SIGKILL: \(missing.prefix(10))")
        print("meta SIGKILL durability (\(database.hasPrefix("postgres") ? "PostgreSQL" : durability)): \(kept.count) acknowledged create+write pairs, all present after restart")
    }

    /// SIGTERM stops the daemon cleanly (exit status 0), and --help explains the options.
    @Test func sigtermStopsCleanlyAndHelpExplains() async throws {
        let directory = try TemporaryDirectory()
        let keyFile = directory.path + "/cluster.key"
        try ClusterKey.generate().write(to: keyFile)
        let daemon = try await MetaDaemon(database: directory.path + "/meta.db", keyFile: keyFile, directory: directory.path, run: 1)
        daemon.stop(signal: SIGTERM)
        #expect(daemon.process.terminationReason == .exit)
        #expect(daemon.process.terminationStatus == 0)

        let help = Process()
        help.executableURL = URL(fileURLWithPath: MetaDaemon.binaryPath)
        help.arguments = ["meta", "serve", "--help"]
        let pipe = Pipe()
        help.standardOutput = pipe
        try help.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        help.waitUntilExit()
        for option in ["--db", "--listen", "--key-file", "--down-after", "--lost-after", "--port-file", "--metrics-port", "--log-level", "--lease-db", "--lease"] {
            #expect(text.contains(option), "--help mentions \(option)")
        }
    }

    /// `--db postgres://...` with no server there: the daemon says it is retrying, then gives
    /// up with a clear message; a malformed URL is refused at once.
    @Test func anUnreachableOrMalformedPostgresURLIsAClearError() async throws {
        let directory = try TemporaryDirectory()
        let keyFile = directory.path + "/cluster.key"
        try ClusterKey.generate().write(to: keyFile)
        func run(_ database: String) throws -> (status: Int32, output: String) {
            try Self.runMeta(["--db", database, "--db-wait", "2", "--insecure", "--key-file", keyFile, "--listen", "127.0.0.1:0"])
        }
        // Port 1 on loopback: nothing listens there.
        let unreachable = try run("postgres://radonfs:pw@127.0.0.1:1/meta")
        #expect(unreachable.status != 0)
        #expect(unreachable.output.contains("retrying"), "\(unreachable.output)")
        #expect(unreachable.output.contains("was not reachable"), "\(unreachable.output)")
        #expect(!unreachable.output.contains("pw@"), "the password stays out of the log")
        let malformed = try run("postgres://radonfs@127.0.0.1:99999/meta")
        #expect(malformed.status != 0)
        #expect(malformed.output.contains("not a valid postgres:// URL"), "\(malformed.output)")
    }

    /// A daemon given a bad key file, a missing certificate, or no way to prove itself refuses
    /// to start with a clear message.
    @Test func missingCredentialsAreAClearError() async throws {
        let directory = try TemporaryDirectory()
        func run(_ credentials: [String]) throws -> (status: Int32, output: String) {
            try Self.runMeta(["--db", directory.path + "/m.db", "--listen", "127.0.0.1:0"] + credentials)
        }
        let missingKey = try run(["--insecure", "--key-file", directory.path + "/none.key"])
        #expect(missingKey.status != 0)
        #expect(missingKey.output.contains("cluster key"), "\(missingKey.output)")
        let missingCertificate = try run(["--tls-dir", directory.path + "/tls", "--identity", "meta"])
        #expect(missingCertificate.status != 0)
        #expect(missingCertificate.output.contains("cannot load TLS identity \"meta\""), "\(missingCertificate.output)")
        let nothing = try run([])
        #expect(nothing.status != 0)
        #expect(nothing.output.contains("--tls-dir"), "\(nothing.output)")
        let keyWithoutInsecure = try run(["--key-file", directory.path + "/none.key"])
        #expect(keyWithoutInsecure.status != 0)
        #expect(keyWithoutInsecure.output.contains("--insecure"), "\(keyWithoutInsecure.output)")
    }

    /// Runs `radonfs meta ARGUMENTS` to its end: its exit status and what it wrote to stderr.
    static func runMeta(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MetaDaemon.binaryPath)
        process.arguments = ["meta"] + arguments
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
