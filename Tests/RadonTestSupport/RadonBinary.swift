import Foundation

/// The `radonfs` executable these tests drive. Tests that start real clusters must run the
/// binary of this very checkout (not one on PATH), so its location is derived from this file.
public enum RadonBinary {
    /// .build/debug/radonfs under the package root, or the release build when there is no
    /// debug one (`swift test -c release`).
    public static let path: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let debug = url.appendingPathComponent(".build/debug/radonfs").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : url.appendingPathComponent(".build/release/radonfs").path
    }()

    /// Runs the binary with `arguments` and waits; its output (stdout and stderr together), or
    /// a failure carrying it unless `allowFailure`. The output goes through the file
    /// `outputPath` (a fresh one in the temporary directory by default; removed after), not a
    /// pipe: daemons a command starts (`up`) outlive it and must not hold our pipe open.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:], outputPath: String? = nil,
                           allowFailure: Bool = false) throws -> String {
        let outputPath = outputPath ?? "\(NSTemporaryDirectory())/radonfs-run-\(UUID().uuidString.prefix(8)).out"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 || allowFailure else {
            throw TestFailure("radonfs \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n\(text)")
        }
        return text
    }
}
