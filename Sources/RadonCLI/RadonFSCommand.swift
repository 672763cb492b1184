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
            """,
        subcommands: RadonFSCommand.allSubcommands
    )

    public init() {}
}
