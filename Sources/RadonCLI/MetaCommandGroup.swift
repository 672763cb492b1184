import ArgumentParser

/// `radonfs meta`: the metadata service (`serve`, the default, so `radonfs meta --db ...` runs
/// the daemon as it always did), the copies of its database (`backup`, `restore`), and the
/// failover of a local cluster's PostgreSQL (`promote`).
struct MetaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Run the metadata service (the default), back its database up and restore it, or fail a local cluster's PostgreSQL over.",
        discussion: "`radonfs meta --db PATH --tls-dir DIR --identity NAME ...` runs the service; `radonfs meta serve --help` lists its options.",
        subcommands: [MetaServeCommand.self, MetaBackupCommand.self, MetaRestoreCommand.self, MetaPromoteCommand.self],
        defaultSubcommand: MetaServeCommand.self
    )
}
