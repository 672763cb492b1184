import ArgumentParser

/// `radonfs meta`: the metadata service (`serve`, the default, so `radonfs meta --db …` runs it)
/// and the verbs that act on a local cluster's metadata servers and their database.
struct MetaGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Run the metadata service (`radonfs meta --db …`), or fail a local cluster's PostgreSQL over (`radonfs meta promote`).",
        discussion: "`radonfs meta serve --help` lists the options of the service; `serve` may be left out.",
        subcommands: [MetaCommand.self, MetaPromoteCommand.self],
        defaultSubcommand: MetaCommand.self
    )
}
