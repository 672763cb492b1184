import Foundation

extension RadonBinary {
    /// Runs `radonfs` with `arguments` (and `environment` added to ours) and waits; returns its
    /// output, and throws with it when it fails unless `allowFailure`.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:], allowFailure: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        // A file, not a pipe: the daemons `up` starts outlive it and must not hold our pipe open.
        let outputPath = "\(NSTemporaryDirectory())/radonfs-run-\(UUID().uuidString.prefix(8)).out"
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
