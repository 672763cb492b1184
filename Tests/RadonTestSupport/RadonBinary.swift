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

    /// Whether `radonfs <subcommand> --help` mentions `text` (an option): tests of behaviour
    /// that another branch brings run only once the binary has it.
    public static func help(of subcommand: String, mentions text: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [subcommand, "--help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return false }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).contains(text)
    }
}
