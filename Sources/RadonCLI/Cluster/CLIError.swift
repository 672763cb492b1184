/// A failure a command reports to its user as one clear line (ArgumentParser prints it and exits
/// non-zero).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
