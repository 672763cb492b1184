/// A re-export setting that cannot be used, said so that the user knows what to change.
struct ShareConfigurationError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    /// One line, no control characters: a value that cannot end its line in a configuration
    /// file and start a setting of its own.
    static func isOneLine(_ value: String) -> Bool {
        !value.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Absolute, one line: what every path of a re-export configuration must be.
    static func checkAbsolute(_ path: String, _ what: String) throws(ShareConfigurationError) {
        guard path.hasPrefix("/") else { throw .init("\(what) must be an absolute path, not \"\(path)\"") }
        guard isOneLine(path) else { throw .init("\(what) must not contain a newline or a control character") }
    }
}
