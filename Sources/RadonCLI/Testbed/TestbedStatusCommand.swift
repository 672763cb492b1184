import ArgumentParser
import Foundation
import RadonWire

/// `radonfs testbed status`: the hosts, their links and what runs on them, with which metadata
/// server is the active one and which PostgreSQL server is the primary.
struct TestbedStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the test bed's hosts, addresses, links (up or down, rate limit) and processes.",
        discussion: """
            A metadata server is shown (active) when it answers the cluster's status, (standby) when it \
            answers notActive; a PostgreSQL server (primary) or (standby) from its data directory \
            (standby.signal). `radonfs status --dir DIR` shows the cluster itself.
            """)

    @OptionGroup var directory: TestbedDirectoryOption

    func run() async throws {
        let state = try TestbedState.load(from: directory.path)
        let roles = await Self.metaRoles(state)
        print("Test bed in \(state.directory): \(state.codec) \(state.layout), links tbf \(state.rate) each way, bridge \(TestbedPlan.bridge) \(TestbedPlan.bridgeAddress)")
        for host in state.plan.hosts {
            print("\(host.name)  namespace \(host.namespace)")
            for link in host.links {
                print("  \(link.address)  \(link.namespaceInterface) \(Self.linkState(link, of: host))")
            }
            for line in Self.postgresLines(state, on: host) { print("  " + line) }
            for process in state.processes where process.host == host.name {
                let running = BackgroundProcess.isRunning(process.pid) ? "running" : "NOT RUNNING"
                var place = process.address ?? process.mountPoint.map { "\($0) (\(LocalClusterLauncher.isMounted($0) ? "mounted" : "NOT MOUNTED"))" } ?? ""
                if let address = process.address, let role = roles[address] { place += " (\(role))" }
                print("  \(process.kind) pid \(process.pid) \(running)  \(place)  log \(process.logPath)")
            }
        }
    }

    /// Each metadata server's role by its address, when the bed has more than one: `active`
    /// when it answers the cluster's status, `standby` when it answers notActive, else why not.
    /// Each is asked on its own (not through the failover client, which would find the active one
    /// whichever it asked), with a 2 s connect and a 3 s call timeout (a cut link drops packets;
    /// nothing refuses them).
    static func metaRoles(_ state: TestbedState) async -> [String: String] {
        let metas = state.processes.filter { $0.kind == "meta" }
        guard metas.count > 1, let cluster = try? LocalClusterState.load(from: state.directory),
              let credentials = try? cluster.credentials(identity: LocalClusterState.adminIdentity) else { return [:] }
        var roles: [String: String] = [:]
        for meta in metas {
            guard let text = meta.address, let address = WireAddress(text) else { continue }
            guard BackgroundProcess.isRunning(meta.pid) else { roles[text] = "down"; continue }
            let pool = WireConnectionPool(credentials: credentials, connectTimeout: .seconds(2))
            do {
                _ = try await MetaClient(connection: try await pool.connection(to: address), timeout: .seconds(3)).status()
                roles[text] = "active"
            } catch let error as WireError where error.status == .notActive {
                roles[text] = "standby"
            } catch {
                roles[text] = "no answer: \(error)"
            }
            await pool.closeAll()
        }
        return roles
    }

    /// The PostgreSQL servers of `host`'s namespace, each with its role: from its data directory
    /// (standby.signal), or `retired` for a former primary `meta promote` stopped (cluster.json).
    static func postgresLines(_ state: TestbedState, on host: TestbedPlan.Host) -> [String] {
        guard let postgres = state.postgres else { return [] }
        let local = LocalPostgres(state: postgres, clusterDirectory: state.directory)
        let retired = (try? LocalClusterState.load(from: state.directory))?.postgres?.standby
            .flatMap { $0.needsRebuild == true ? $0.dataDirectory : nil }
        let here = postgres.servers
            .filter { $0.networkNamespace == TestbedNetwork.namespacePath(of: host) }
        return here.map { instance in
            let running = local.pid(of: instance).map { "pid \($0) running" } ?? "NOT RUNNING"
            let role = instance.dataDirectory == retired ? "retired by meta promote" : LocalPostgres.isStandby(instance) ? "standby" : "primary"
            return "postgres \(running)  \(instance.address):\(instance.port) (\(role))  log \(instance.logPath)"
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
