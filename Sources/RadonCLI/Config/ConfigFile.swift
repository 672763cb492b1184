import ArgumentParser
import Foundation
import TOMLKit

/// `--config FILE`: a TOML file of any subcommand's options, turned into the command-line words
/// they stand for, so a daemon started by systemd reads the same options an operator types.
///
/// A key is an option's long name without `--` (`listen = "0.0.0.0:7400"`; a short-only
/// option by its letter, `o = ["allow_other"]`; a positional by the name its help shows,
/// `mountpoint = "/mnt/radon"`). A string or number is the option's value; `true` gives a flag,
/// `false` leaves it out (or gives its `--no-` form, when it has one); an array repeats an
/// option that may repeat, and is joined with commas for one that takes a comma-separated list
/// (`meta = ["10.0.0.1:7400", "10.0.0.2:7400"]`).
///
/// Invariant: the command line wins. An option given on the command line drops the file's value
/// of it entirely (for a repeating option, the command line's values replace the file's), so
/// nothing relies on which of two values ArgumentParser keeps; the file's positionals are used
/// only when the command line gives none. An unknown key, a value of the wrong type, or a file
/// that cannot be read or parsed is an error naming the file (and the key), before anything runs.
struct ConfigFile: Sendable {
    /// One key of the file and the words it stands for.
    struct Entry: Sendable {
        var key: String
        var argument: CommandCatalog.Argument
        var words: [String]
    }

    var path: String
    /// Every key of the file, in key order.
    var entries: [Entry]
    /// The keys `merged(into:catalog:)` put on the command line (those it did not give itself).
    var applied: Set<String> = []

    /// Reads and checks the file at `path` against `catalog`'s arguments.
    init(path: String, catalog: CommandCatalog) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CLIError("cannot read the config file \(path): \((error as NSError).localizedDescription)")
        }
        try self.init(path: path, text: text, catalog: catalog)
    }

    /// Checks the TOML `text` (from `path`, named in errors) against `catalog`'s arguments.
    init(path: String, text: String, catalog: CommandCatalog) throws {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw CLIError("\(path), line \(error.source.begin.line), column \(error.source.begin.column): not valid TOML: \(error.description)")
        }
        self.path = path
        var entries: [Entry] = []
        for (key, value) in table {
            guard let argument = catalog.argument(forKey: key) else {
                throw CLIError("\(path): unknown key \"\(key)\": `\(catalog.commandName)` has no such option (keys are the long option names without --; see `\(catalog.commandName) --help`)")
            }
            let words = try Self.words(for: value, argument: argument, problem: { "\(path): key \"\(key)\": \($0)" })
            entries.append(Entry(key: key, argument: argument, words: words))
        }
        self.entries = entries.sorted { $0.key < $1.key }
    }

    /// The command-line words one value stands for.
    private static func words(for value: any TOMLValueConvertible, argument: CommandCatalog.Argument,
                              problem: (String) -> String) throws -> [String] {
        func scalar(_ value: any TOMLValueConvertible) -> String? {
            switch value.type {
            case .string: value.string
            case .int: value.int.map { String($0) }
            case .double: value.double.map { String($0) }
            default: nil
            }
        }
        let spelling = argument.longNames.first.map { "--\($0)" } ?? argument.shortNames.first.map { "-\($0)" } ?? "<\(argument.key)>"
        func option(_ text: String) -> [String] {
            if let long = argument.longNames.first { return ["--\(long)=\(text)"] }
            if let short = argument.shortNames.first { return ["-\(short)", text] }
            return [text]
        }
        switch argument.kind {
        case .flag:
            guard value.type == .bool, let on = value.bool else {
                throw CLIError(problem("\(spelling) is a flag: give true or false, not a \(value.type)"))
            }
            if on { return [spelling] }
            // `false` gives the inversion (`--no-x` of `--x/--no-x`) when the flag has one.
            return argument.longNames.dropFirst().first.map { ["--\($0)"] } ?? []
        case .option, .positional:
            if let text = scalar(value) { return option(text) }
            guard value.type == .array, let array = value.array else {
                throw CLIError(problem("\(spelling) takes a string or a number, not a \(value.type)"))
            }
            var texts: [String] = []
            for element in array {
                guard let text = scalar(element) else {
                    throw CLIError(problem("the array holds a \(element.type); \(spelling) takes strings or numbers"))
                }
                texts.append(text)
            }
            if argument.isRepeating { return texts.flatMap(option) }
            if argument.takesCommaList { return option(texts.joined(separator: ",")) }
            throw CLIError(problem("\(spelling) takes one value, not an array"))
        }
    }

    /// `commandLine` (without the program name) with its `--config FILE` replaced by the file's
    /// options; the command line unchanged and no file when it has no `--config`.
    static func expand(_ commandLine: [String], root: any ParsableCommand.Type) throws -> (arguments: [String], file: ConfigFile?) {
        var words = commandLine
        var path: String?
        var index = 0
        while index < words.count, words[index] != "--" {
            let word = words[index]
            if word == "--config" || word.hasPrefix("--config=") {
                guard path == nil else { throw CLIError("--config is given twice: give one config file") }
                if word == "--config" {
                    guard index + 1 < words.count else { throw CLIError("--config needs a file") }
                    path = words[index + 1]
                    words.removeSubrange(index...index + 1)
                } else {
                    path = String(word.dropFirst("--config=".count))
                    words.remove(at: index)
                }
                continue
            }
            index += 1
        }
        guard let path else { return (commandLine, nil) }
        guard !path.isEmpty else { throw CLIError("--config needs a file") }
        let catalog = try CommandCatalog.resolve(words, root: root)
        var file = try ConfigFile(path: path, catalog: catalog)
        return (file.merged(into: words, catalog: catalog), file)
    }

    /// The command line with the file's options in front of the command line's own (after the
    /// subcommand names), less those the command line gives itself.
    mutating func merged(into commandLine: [String], catalog: CommandCatalog) -> [String] {
        let (given, givesPositionals) = Self.given(in: Array(commandLine.dropFirst(catalog.path.count)), catalog: catalog)
        var applied = entries.filter { !given.contains($0.argument) }
        if givesPositionals { applied.removeAll { $0.argument.kind == .positional } }
        self.applied = Set(applied.map(\.key))
        let options = applied.filter { $0.argument.kind != .positional }.flatMap(\.words)
        var result = catalog.path + options + commandLine.dropFirst(catalog.path.count)
        if !givesPositionals {
            // In the command's declared order, after a terminator: a value may start with "-".
            let positionals = catalog.arguments.filter { $0.kind == .positional }.flatMap { argument in
                applied.first { $0.argument == argument }?.words ?? []
            }
            if !positionals.isEmpty { result += (commandLine.contains("--") ? [] : ["--"]) + positionals }
        }
        return result
    }

    /// Which arguments `words` (the command line after the subcommand names) gives, and whether
    /// it gives any positional.
    static func given(in words: [String], catalog: CommandCatalog) -> (Set<CommandCatalog.Argument>, Bool) {
        var given = Set<CommandCatalog.Argument>()
        var positionals = false
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                positionals = positionals || index < words.count
                break
            }
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2).prefix { $0 != "=" })
                if let argument = catalog.argument(long: name) {
                    given.insert(argument)
                    if argument.kind == .option, !word.contains("=") { index += 1 }
                }
            } else if word.hasPrefix("-"), word.count > 1, Double(word) == nil {
                // -f, -o VALUE, -oVALUE, or several short flags together.
                let letters = Array(word.dropFirst())
                for (offset, letter) in letters.enumerated() {
                    guard let argument = catalog.argument(short: String(letter)) else { continue }
                    given.insert(argument)
                    if argument.kind == .option {
                        if offset == letters.count - 1 { index += 1 }
                        break
                    }
                }
            } else {
                positionals = true
            }
        }
        return (given, positionals)
    }

    /// The key of this file that an ArgumentParser `message` (a parse or validation error) is
    /// about, so the error can name the file and key; nil when it names none of them.
    func key(blamedBy message: String) -> String? {
        for entry in entries where applied.contains(entry.key) {
            let spellings = entry.argument.longNames.map { "--\($0)" } + entry.argument.shortNames.map { "-\($0)" }
                + (entry.argument.kind == .positional ? ["<\(entry.key)>"] : [])
            for spelling in spellings where Self.mentions(message, spelling) { return entry.key }
        }
        return nil
    }

    /// Whether `message` names `spelling` as a whole word (`--listen`, not `--listen-x`).
    private static func mentions(_ message: String, _ spelling: String) -> Bool {
        var searchRange = message.startIndex..<message.endIndex
        while let found = message.range(of: spelling, range: searchRange) {
            let next = found.upperBound < message.endIndex ? message[found.upperBound] : " "
            let previous = found.lowerBound > message.startIndex ? message[message.index(before: found.lowerBound)] : " "
            if !(next.isLetter || next.isNumber || next == "-"), previous != "-" { return true }
            searchRange = found.upperBound..<message.endIndex
        }
        return false
    }
}
