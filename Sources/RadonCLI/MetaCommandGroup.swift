import ArgumentParser

/// `radonfs meta`: the metadata service (`serve`, the default, so `radonfs meta --db ...` runs
/// the daemon as it always did) and the copies of its database (`backup`, `restore`).
struct MetaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Run the metadata service (the default), or back its database up and restore it.",
        discussion: "`radonfs meta --db PATH --key-file FILE ...` runs the service; `radonfs meta serve --help` lists its options.",
        subcommands: [MetaServeCommand.self, MetaBackupCommand.self, MetaRestoreCommand.self],
        defaultSubcommand: MetaServeCommand.self
    )
}
