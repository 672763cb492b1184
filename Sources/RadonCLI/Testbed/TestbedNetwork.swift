import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Makes and removes the network of a `TestbedPlan` with iproute2: a bridge with the host's
/// address, a network namespace per host, a veth pair per link, and a tbf rate limit on both
/// ends of every pair, so each direction of each link is capped as a real port is.
///
/// Everything it makes is named from the plan (`radonbed-*` namespaces, `rbs0p0h`-style interfaces,
/// `radonbed0`), so `remove` also finds what a crashed `up` left without a state file.
enum TestbedNetwork {
    /// Builds the whole network; on failure removes what it made and rethrows.
    static func create(_ plan: TestbedPlan, rate: String) throws {
        guard getuid() == 0 else { throw CLIError("the test bed needs root (network namespaces, bridges, tc)") }
        do {
            try ip(["link", "add", TestbedPlan.bridge, "type", "bridge"])
            try ip(["addr", "add", "\(TestbedPlan.bridgeAddress)/\(TestbedPlan.prefixLength)", "dev", TestbedPlan.bridge])
            try ip(["link", "set", TestbedPlan.bridge, "up"])
            for host in plan.hosts {
                try ip(["netns", "add", host.namespace])
                try ip(["-n", host.namespace, "link", "set", "lo", "up"])
                for (index, link) in host.links.enumerated() {
                    try ip(["link", "add", link.hostInterface, "type", "veth", "peer", "name", link.namespaceInterface])
                    try ip(["link", "set", link.namespaceInterface, "netns", host.namespace])
                    try ip(["link", "set", link.hostInterface, "master", TestbedPlan.bridge])
                    try ip(["link", "set", link.hostInterface, "up"])
                    // A client's further links get no /16 route: they carry only what its routes pair with them.
                    let prefixRoute = host.role == .client && index > 0 ? ["noprefixroute"] : []
                    try ip(["-n", host.namespace, "addr", "add", "\(link.address)/\(TestbedPlan.prefixLength)", "dev", link.namespaceInterface] + prefixRoute)
                    try ip(["-n", host.namespace, "link", "set", link.namespaceInterface, "up"])
                    // Host side: traffic toward the namespace; namespace side: traffic from it.
                    try limit(link.hostInterface, namespace: nil, rate: rate)
                    try limit(link.namespaceInterface, namespace: host.namespace, rate: rate)
                }
                if host.links.count > 1 {
                    if host.role == .client {
                        for route in plan.routes(of: host) {
                            try ip(["-n", host.namespace] + route.arguments)
                        }
                    } else {
                        try routeEachPathFromItsOwnAddress(host)
                    }
                    try answerARPOnlyOnTheAddressesInterface(host)
                }
            }
        } catch {
            remove(plan)
            throw error
        }
    }

    /// With several links on one subnet, Linux would answer every path through the first
    /// interface (and so cap a node at one link's rate). A routing table per path sends what
    /// leaves from a path's address out of that path's interface.
    private static func routeEachPathFromItsOwnAddress(_ host: TestbedPlan.Host) throws {
        for (path, link) in host.links.enumerated() {
            let table = "\(100 + path)"
            try ip(["-n", host.namespace, "route", "add", TestbedPlan.network, "dev", link.namespaceInterface,
                    "src", link.address, "table", table])
            try ip(["-n", host.namespace, "rule", "add", "from", link.address, "table", table])
        }
    }

    /// With several links on one bridge, Linux would answer ARP for any of a host's addresses on
    /// every link, so a peer could send a path's packets to another link. Answer only on the
    /// interface that holds the address, and ask from the address of the link that asks.
    private static func answerARPOnlyOnTheAddressesInterface(_ host: TestbedPlan.Host) throws {
        for setting in ["arp_ignore=1", "arp_announce=2"] {
            try run("/usr/sbin/ip", ["netns", "exec", host.namespace, "sysctl", "-q", "-w", "net.ipv4.conf.all.\(setting)"])
        }
    }

    /// `tc qdisc add dev X root tbf rate RATE burst 256kb latency 50ms`, in `namespace` if given.
    static func limit(_ interface: String, namespace: String?, rate: String) throws {
        let prefix = namespace.map { ["-n", $0] } ?? []
        try run("/usr/sbin/tc", prefix + ["qdisc", "add", "dev", interface, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms"])
    }

    /// Removes every namespace, veth and the bridge of the bed, including leftovers of an `up`
    /// that crashed before it saved its plan. Processes must be gone first (a namespace lives
    /// on while a process is in it). Safe to run twice.
    static func remove(_ plan: TestbedPlan?) {
        var namespaces = Set(plan?.hosts.map(\.namespace) ?? [])
        namespaces.formUnion(existingNamespaces())
        for namespace in namespaces.sorted() {
            _ = try? ip(["netns", "del", namespace])
        }
        // A veth dies with its peer's namespace; these are pairs never moved into one.
        for interface in existingInterfaces() where TestbedPlan.isBedInterface(interface) {
            _ = try? ip(["link", "del", interface])
        }
        if existingInterfaces().contains(TestbedPlan.bridge) {
            _ = try? ip(["link", "del", TestbedPlan.bridge])
        }
    }

    /// The test bed's namespaces that exist now.
    static func existingNamespaces() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return names.filter { $0.hasPrefix(TestbedPlan.namespacePrefix) }.sorted()
    }

    /// Every interface of the host's own namespace, by name.
    static func existingInterfaces() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []).sorted()
    }

    /// The pids of every process in `namespace` (`ip netns pids`).
    static func processes(in namespace: String) -> [pid_t] {
        guard let output = try? ip(["netns", "pids", namespace]) else { return [] }
        return output.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    /// Brings one link down or up again, from inside its namespace (as a pulled cable: the
    /// daemon keeps running, its packets vanish).
    static func setLink(_ link: TestbedPlan.Link, of host: TestbedPlan.Host, up: Bool) throws {
        try ip(["-n", host.namespace, "link", "set", link.namespaceInterface, up ? "up" : "down"])
    }

    /// The command line that runs `arguments` in `host`'s network namespace only: not `ip netns
    /// exec`, which also makes a mount namespace of its own, so a FUSE mount made under it
    /// would be invisible to the rest of the machine.
    static func command(in host: TestbedPlan.Host, _ arguments: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=\(namespacePath(of: host))"] + arguments
    }

    /// The file `ip netns` binds `host`'s namespace to, as `nsenter --net=` takes it.
    static func namespacePath(of host: TestbedPlan.Host) -> String {
        "/run/netns/\(host.namespace)"
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        try run("/usr/sbin/ip", arguments)
    }

    /// Runs a tool to completion; throws with its own words when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try ForegroundCommand.run(executable, arguments)
        guard status == 0 else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw CLIError("\(name) \(arguments.joined(separator: " ")) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }
}
