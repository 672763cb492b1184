import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs testbed run HOST -- COMMAND...`: a command on one emulated host.
struct TestbedRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a test-bed host's network namespace (its traffic goes over the host's link).",
        discussion: """
            Only the network namespace is entered (nsenter --net), so the command sees the machine's \
            files and mounts: `radonfs testbed run client1 -- iperf3 -c 10.214.10.2` measures client1's link, \
            `radonfs testbed run storage0 -- ss -ltn` lists what listens on storage0.
            """)

    @OptionGroup var directory: TestbedDirectoryOption

    @Argument(help: ArgumentHelp("The host: meta0, storage0.., client0.. (see `testbed status`).", valueName: "host"))
    var host: String

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. `testbed run client0 -- ip addr`") }
    }

    func run() throws {
        let state = try TestbedState.load(from: directory.path)
        let line = TestbedNetwork.command(in: try state.plan.host(named: host), command)
        let argv: [UnsafeMutablePointer<CChar>?] = line.map { strdup($0) } + [nil]
        execv(line[0], argv)
        throw CLIError("cannot run \(line[0]): \(String(cString: strerror(errno)))")
    }
}
