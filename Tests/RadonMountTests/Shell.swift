import Foundation
import Testing

/// Runs real tools (bash scripts) as child processes and waits for them without blocking a
/// thread of the cooperative pool: the in-process mount answers requests on that pool, so a
/// test that blocked it while a tool used the mount could deadlock.
enum Shell {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `script` with `bash -c` (set -euo pipefail first); kills it after `timeout`.
    static func run(_ script: String, environment: [String: String] = [:], timeout: Duration = .seconds(600)) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("out"), errorsURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL), errors = try FileHandle(forWritingTo: errorsURL)
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -euo pipefail\n" + script]
        process.environment = ProcessInfo.processInfo.environment.merging(["TZ": "UTC", "LC_ALL": "C"]) { $1 }.merging(environment) { $1 }
        // Scripts start in the scratch folder, so their stray files (2> err, fio's verify state)
        // never land in the checkout.
        process.currentDirectoryURL = scratch
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let pid = process.processIdentifier
            Task {
                try? await Task.sleep(for: timeout)
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
        return Result(
            status: status,
            output: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? "")
    }

    /// Runs `script` and records a test failure with its output unless it exits 0.
    @discardableResult
    static func check(_ label: String, _ script: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(script)
        #expect(result.status == 0, "\(label) failed (exit \(result.status))\nstdout:\n\(result.output.suffix(3000))\nstderr:\n\(result.errors.suffix(3000))", sourceLocation: sourceLocation)
        return result.output
    }
}
