import ArgumentParser

/// `radonfs bench ...`: measurements in a release build, side by side with the reference.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure RadonFS against its references (ISA-L, GlusterFS, the raw disk).",
        subcommands: [BenchCodecCommand.self, BenchFSCommand.self, BenchRebuildCommand.self, BenchPaperCommand.self]
    )
}
