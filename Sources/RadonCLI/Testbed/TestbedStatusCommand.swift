import ArgumentParser
import Foundation

/// `radonfs testbed status`: the hosts, their links and what runs on them.
struct TestbedStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the test bed's hosts, addresses, links (up or down, rate limit) and processes.",
        discussion: "`radonfs status --dir DIR` shows the cluster itself.")

    @OptionGroup var directory: TestbedDirectoryOption

    func run() throws {
        let state = try TestbedState.load(from: directory.path)
        print("Test bed in \(state.directory): \(state.codec) \(state.layout), links tbf \(state.rate) each way, bridge \(TestbedPlan.bridge) \(TestbedPlan.bridgeAddress)")
        for host in state.plan.hosts {
            print("\(host.name)  namespace \(host.namespace)")
            for link in host.links {
                print("  \(link.address)  \(link.namespaceInterface) \(Self.linkState(link, of: host))")
            }
            for process in state.processes where process.host == host.name {
                let running = BackgroundProcess.isRunning(process.pid) ? "running" : "NOT RUNNING"
                let place = process.address ?? process.mountPoint.map { "\($0) (\(LocalClusterLauncher.isMounted($0) ? "mounted" : "NOT MOUNTED"))" } ?? ""
                print("  \(process.kind) pid \(process.pid) \(running)  \(place)  log \(process.logPath)")
            }
        }
    }

    /// `up`/`down` and the qdisc of the namespace's end of a link, from iproute2.
    static func linkState(_ link: TestbedPlan.Link, of host: TestbedPlan.Host) -> String {
        guard let shown = try? TestbedNetwork.ip(["-n", host.namespace, "-o", "link", "show", "dev", link.namespaceInterface]) else {
            return "MISSING"
        }
        let state = shown.contains("state UP") ? "up" : shown.contains("state DOWN") ? "down" : "unknown"
        let qdisc = (try? TestbedNetwork.run("/usr/sbin/tc", ["-n", host.namespace, "qdisc", "show", "dev", link.namespaceInterface])) ?? ""
        let rate = qdisc.range(of: #"rate \S+"#, options: .regularExpression).map { String(qdisc[$0]) } ?? "no rate limit"
        return "\(state), tbf \(rate)"
    }
}
