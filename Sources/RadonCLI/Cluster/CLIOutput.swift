import Foundation

/// How the operator verbs print for scripts (`--json`).
enum CLIOutput {
    /// Pretty, with sorted keys, and paths left as they are (no `\/`).
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
