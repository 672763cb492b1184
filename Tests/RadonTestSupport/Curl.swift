import Foundation

/// HTTP as a user's tools speak it: Debian's curl, one request, its status and body.
public enum Curl {
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    /// `method` `url` with `headers` ("Name: value"); `extra` are further curl arguments
    /// (`--cacert FILE`). Throws when curl fails (no connection, a TLS error) unless
    /// `allowFailure`, which answers status 0.
    public static func fetch(
        _ url: String, method: String = "GET", headers: [String] = [], extra: [String] = [], allowFailure: Bool = false
    ) throws -> Reply {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--max-time", "15", "-X", method, "-w", "\n%{http_code}"]
            + headers.flatMap { ["-H", $0] } + extra + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = allowFailure ? FileHandle.nullDevice : FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if allowFailure { return Reply(status: 0, body: "") }
            throw TestFailure("curl -X \(method) \(url) exited \(process.terminationStatus)")
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return Reply(status: status, body: lines.joined(separator: "\n"))
    }
}
