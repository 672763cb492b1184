import Foundation

/// Reading a Prometheus endpoint the way Prometheus does, and checking it with Debian's
/// `promtool` (the prometheus package, installed by `scripts/install-dependencies.sh --test`).
public enum MetricsScrape {
    /// The text at `http://<address>/metrics`.
    public static func text(_ address: String) async throws -> String {
        let reply = try Curl.fetch("http://\(address)/metrics")
        guard reply.status == 200 else { throw TestFailure("http://\(address)/metrics answered \(reply.status)") }
        return reply.body
    }

    /// The value of the sample `name{labels}` (labels as written, e.g. `health="healthy"`), nil
    /// when the endpoint has no such sample.
    public static func value(_ text: String, _ name: String, labels: String = "") -> Double? {
        let prefix = labels.isEmpty ? name + " " : "\(name){\(labels)} "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// `promtool check metrics` on `text`: the problems it reports (empty when it passes).
    public static func promtoolProblems(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = String(decoding: data, as: UTF8.self)
        return process.terminationStatus == 0 ? "" : "exit \(process.terminationStatus): \(report)"
    }
}
