import ArgumentParser

/// The one `radonfs` binary: every daemon, the mount, the local-cluster launcher and the admin
/// and file verbs are subcommands of it, like `weed` or `juicefs`.
public struct RadonFSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "radonfs",
        abstract: "RadonFS: a distributed POSIX file system protected by erasure coding.",
        discussion: """
            Start a local cluster with `radonfs up --dir DIR`, then use the mount it prints, or the \
            file verbs (put, get, ls, stat, rm, mkdir). Every daemon is a subcommand too.

            Every subcommand also takes --config FILE: a TOML file of its options, keyed by the \
            long option names without -- (listen = "0.0.0.0:7400", insecure = true, \
            meta = ["10.0.0.1:7400", "10.0.0.2:7400"]). An option given on the command line \
            replaces the file's value of it.
            """,
        subcommands: RadonFSCommand.allSubcommands
    )

    public init() {}
}
