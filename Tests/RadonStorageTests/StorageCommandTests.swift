#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import Testing
import RadonTestSupport
import RadonWire

/// `radonfs storage` as a separate process: port file, requests, /metrics, SIGTERM.
@Suite struct StorageCommandTests {
    static let binary = RadonBinary.path

    /// Polls for up to `timeout` until `body` returns a value.
    private func waitFor<T>(_ timeout: Duration = .seconds(20), _ body: () throws -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try body() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: StorageCommandTests.binary), "needs the radonfs binary of this build"))
    func daemonServesReportsMetricsAndStopsCleanlyOnSIGTERM() async throws {
        let directory = temporaryDirectory("command")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try await StorageProcess.start(directory: directory, extraArguments: ["--metrics-port", "0"])
        defer { daemon.killIfRunning() }
        let (process, logPath) = (daemon.process, daemon.logPath)
        let connection = try await WireConnection.connect(to: daemon.address, credentials: .sharedKey(daemon.key))
        let client = StorageClient(connection: connection)
        let bytes = fragmentBytes(block: 0, version: 1, count: 4000)
        try await client.writeFragments(group: 1, inode: 2, fragmentIndex: 0, fragmentCapacity: 4096,
                                        slots: [FragmentSlotWrite(blockIndex: 0, version: 1, effectiveLength: 4000, bytes: bytes)])
        #expect(try await client.readFragments(group: 1, inode: 2, fragmentIndex: 0, blockIndices: [0]).first?.fragment.bytesArray == bytes)

        // The metrics endpoint counts what was just done.
        let metricsURL = try await waitFor {
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            return log.firstRange(of: /http:\/\/127\.0\.0\.1:\d+\/metrics/).map { String(log[$0]) }
        }
        let (data, _) = try await URLSession.shared.data(from: URL(string: try #require(metricsURL))!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains("radonfs_storage_requests_total 2"))
        #expect(metrics.contains("radonfs_storage_fragment_bytes_written_total 4000"))

        kill(process.processIdentifier, SIGTERM)
        let exited = try await waitFor(.seconds(10)) { process.isRunning ? nil : true }
        #expect(exited == true)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        connection.close()
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("storage daemon listening"))
        #expect(log.contains("storage stopped"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: StorageCommandTests.binary), "needs the radonfs binary of this build"))
    func badArgumentsGetAClearMessage() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["storage", "--dir", "/tmp/x", "--listen", "nonsense", "--insecure", "--key-file", "/nonexistent"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains("--listen must be host:port"))
    }

    @Test(
        "more --advertise addresses than --listen ones, or --advertise with --advertise-host, get a clear message",
        .enabled(if: FileManager.default.isExecutableFile(atPath: StorageCommandTests.binary), "needs the radonfs binary of this build"))
    func badPathArgumentsGetAClearMessage() throws {
        func run(_ extra: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["storage", "--dir", "/tmp/x", "--insecure", "--key-file", "/nonexistent"] + extra
            let pipe = Pipe()
            process.standardError = pipe
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        let (status, output) = try run(["--listen", "127.0.0.1:0", "--advertise", "10.0.0.1:7500,10.0.1.1:7500"])
        #expect(status != 0)
        #expect(output.contains("2 --advertise addresses for 1 --listen addresses"))
        let (both, bothOutput) = try run(["--listen", "127.0.0.1:0", "--advertise", "10.0.0.1:0", "--advertise-host", "x"])
        #expect(both != 0)
        #expect(bothOutput.contains("give --advertise or --advertise-host, not both"))
    }
}
