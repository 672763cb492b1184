import ArgumentParser
import Foundation

/// The arguments every `radonfs` subcommand takes, read from ArgumentParser's own description of
/// the command tree (the JSON `--experimental-dump-help` prints), so a config file is checked
/// against exactly what the command line accepts, with no second list to keep in step.
///
/// Invariant: `arguments` holds the chosen command's own options, flags and positionals, its
/// option groups included, and never `--help`.
struct CommandCatalog: Sendable {
    /// One option, flag or positional of a command.
    struct Argument: Sendable, Hashable {
        enum Kind: String, Sendable, Decodable { case positional, option, flag }

        var kind: Kind
        /// Long names without `--` (a flag with an inversion has two: `x` and `no-x`).
        var longNames: [String]
        /// Single-letter names without `-`.
        var shortNames: [String]
        /// Whether it may be given several times (`[String]` options such as mount's `-o`).
        var isRepeating: Bool
        /// What the help calls its value (`host:port[,host:port...]`); a positional's name.
        var valueName: String?

        /// The config file key: the first long name, else the short name, else (a positional)
        /// the value name.
        var key: String { longNames.first ?? shortNames.first ?? valueName ?? "" }

        /// The option's value is a comma-separated list (its value name says `[,...]`), so a
        /// TOML array for it is joined with commas.
        var takesCommaList: Bool { valueName?.contains(",") == true }
    }

    /// The subcommand names as typed on the command line (`["meta"]` for `radonfs meta`, whose
    /// default subcommand `serve` then runs).
    var path: [String]
    /// The full name of the command that runs, for messages (`radonfs meta serve`).
    var commandName: String
    var arguments: [Argument]

    /// The argument a config file key names, if any.
    func argument(forKey key: String) -> Argument? {
        arguments.first { $0.kind != .positional && ($0.longNames.contains(key) || $0.shortNames == [key] && $0.longNames.isEmpty) }
            ?? arguments.first { $0.kind == .positional && $0.valueName == key }
    }

    /// The argument a command-line name (`listen` of `--listen`, `f` of `-f`) names.
    func argument(long name: String) -> Argument? { arguments.first { $0.longNames.contains(name) } }
    func argument(short name: String) -> Argument? { arguments.first { $0.shortNames.contains(name) } }

    /// The command that `commandLine` (without the program name) runs, from the root command's
    /// tree: the leading words that name subcommands, then the default subcommand, if any.
    static func resolve(_ commandLine: [String], root: any ParsableCommand.Type) throws -> CommandCatalog {
        let tree: Node
        do {
            tree = try JSONDecoder().decode(Dump.self, from: Data(root._dumpHelp().utf8)).command
        } catch {
            throw CLIError("cannot read the command tree to check a config file against: \(error)")
        }
        var node = tree
        var path: [String] = []
        var names = [tree.commandName]
        for word in commandLine {
            guard let next = node.subcommands?.first(where: { $0.commandName == word || $0.aliases?.contains(word) == true }) else { break }
            node = next
            path.append(word)
            names.append(next.commandName)
        }
        while let name = node.defaultSubcommand, let next = node.subcommands?.first(where: { $0.commandName == name }) {
            node = next
            names.append(next.commandName)
        }
        let arguments = (node.arguments ?? []).compactMap { info -> Argument? in
            let long = info.names?.filter { $0.kind != "short" }.map(\.name) ?? []
            let short = info.names?.filter { $0.kind == "short" }.map(\.name) ?? []
            if long.contains("help") || long.contains("version") { return nil }
            return Argument(kind: info.kind, longNames: long, shortNames: short, isRepeating: info.isRepeating, valueName: info.valueName)
        }
        return CommandCatalog(path: path, commandName: names.joined(separator: " "), arguments: arguments)
    }

    // The parts of ArgumentParser's ToolInfoV0 JSON read here.
    private struct Dump: Decodable { var command: Node }
    private struct Node: Decodable {
        var commandName: String
        var aliases: [String]?
        var defaultSubcommand: String?
        var subcommands: [Node]?
        var arguments: [ArgumentInfo]?
    }
    private struct ArgumentInfo: Decodable {
        struct Name: Decodable { var kind: String; var name: String }
        var kind: Argument.Kind
        var isRepeating: Bool
        var names: [Name]?
        var valueName: String?
    }
}
