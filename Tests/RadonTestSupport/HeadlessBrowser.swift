import Foundation

/// Debian's Chromium, headless, loading a page the way a user's browser does (scripts run,
/// fetches go to the server): the page's DOM after its scripts settled, or a screenshot.
/// Installed by `scripts/install-dependencies.sh --test`.
public enum HeadlessBrowser {
    public static let path = "/usr/bin/chromium"

    /// The serialized DOM of `url` after `settle` of the page's own time (timers and fetches run;
    /// Chromium's virtual time waits for pending fetches).
    public static func dom(of url: String, settle: Duration = .seconds(3)) throws -> String {
        try run(["--dump-dom", url], settle: settle)
    }

    /// A PNG of `url` at `width`x`height` into `file`.
    public static func screenshot(of url: String, to file: String, width: Int = 1360, height: Int = 1000) throws {
        _ = try run(["--screenshot=\(file)", "--window-size=\(width),\(height)", "--hide-scrollbars", url], settle: .seconds(3))
    }

    private static func run(_ arguments: [String], settle: Duration) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-chromium-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        // --no-sandbox: the suite runs as root, where Chromium's sandbox refuses to start.
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile)", "--virtual-time-budget=\(settle.components.seconds * 1000)",
        ] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("chromium \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: complaints, as: UTF8.self).suffix(2000))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first value of attribute `name` on an element matching `marker` (a literal piece of
    /// its start tag, e.g. `<body` or `id="rebuild"`), as the DOM dump writes it.
    public static func attribute(_ name: String, in dom: String, at marker: String) -> String? {
        guard let start = dom.range(of: marker) else { return nil }
        let tagStart = dom[..<start.lowerBound].lastIndex(of: "<") ?? start.lowerBound
        guard let tagEnd = dom[start.lowerBound...].firstIndex(of: ">") else { return nil }
        let tag = dom[tagStart..<tagEnd]
        guard let attribute = tag.range(of: " \(name)=\"") else { return nil }
        let value = tag[attribute.upperBound...]
        return value.firstIndex(of: "\"").map { String(value[..<$0]) }
    }

    /// How many times `piece` occurs in `dom`.
    public static func count(_ piece: String, in dom: String) -> Int {
        dom.components(separatedBy: piece).count - 1
    }
}
