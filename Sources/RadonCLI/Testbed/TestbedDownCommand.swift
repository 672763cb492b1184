import ArgumentParser
import Foundation

/// `radonfs testbed down`: removes everything `up` made (the data and logs stay in DIR).
struct TestbedDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Unmount, stop every process in the test bed's hosts, remove its namespaces, links and bridge.",
        discussion: "Safe to run twice, or after a crash: it also removes leftovers it finds by name (radonbed-* namespaces, rbs0p0h-style links, the radonbed0 bridge).")

    @OptionGroup var directory: TestbedDirectoryOption

    @Option(name: .long, help: "Seconds each process gets to exit after SIGTERM.")
    var grace = 10

    func run() async throws {
        let outcome = await TestbedTeardown.run(directory: directory.path, grace: .seconds(grace))
        var line = "Test bed down: \(outcome.unmounted.count) mounts, \(outcome.stopped) processes, \(outcome.namespacesRemoved.count) namespaces removed"
        if !outcome.killed.isEmpty { line += "; killed with SIGKILL: \(outcome.killed)" }
        print(line + ".")
        let left = TestbedNetwork.existingNamespaces() + TestbedNetwork.existingInterfaces().filter { $0 == TestbedPlan.bridge }
        if !left.isEmpty { throw CLIError("could not remove: \(left.joined(separator: ", "))") }
    }
}
