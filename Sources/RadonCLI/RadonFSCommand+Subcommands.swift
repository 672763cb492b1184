import ArgumentParser

extension RadonFSCommand {
    /// Every subcommand, in the order `--help` lists them. Each lives in its own file.
    static let allSubcommands: [any ParsableCommand.Type] = [
        BenchCommand.self,
    ]
}
