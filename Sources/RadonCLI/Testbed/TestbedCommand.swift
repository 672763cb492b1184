import ArgumentParser
import Foundation

/// `radonfs testbed up|run|status|down`: several emulated hosts on this machine, as network
/// namespaces on a bridge with 1 Gbit/s links, running a RadonFS cluster in the roles of the
/// RozoFS paper's test bed (storage hosts, a metadata host, client hosts with a mount each).
struct TestbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testbed",
        abstract: "Emulate several hosts on this machine (network namespaces, 1 Gbit/s links) and run a cluster over them.",
        discussion: """
            Needs root. Each host is a network namespace joined to the bridge \(TestbedPlan.bridge) \
            (\(TestbedPlan.bridgeAddress)/\(TestbedPlan.prefixLength), the host's own foot on the bed) by a veth pair \
            capped with tc tbf on both ends; addresses are in 10.214.0.0/16. One test bed runs per machine.
            """,
        subcommands: [TestbedUpCommand.self, TestbedRunCommand.self, TestbedStatusCommand.self, TestbedDownCommand.self])

    static let defaultDirectory = "/var/tmp/radonfs-testbed"
}

/// The `--dir` every testbed subcommand takes.
struct TestbedDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The test bed's directory: its state (testbed.json), the cluster's data, logs and mount points.", valueName: "dir"))
    var dir: String = TestbedCommand.defaultDirectory

    var path: String { URL(fileURLWithPath: dir).standardizedFileURL.path }
}
