import Foundation
import RadonWire

/// What `radonfs testbed up` made, recorded in `DIR/testbed.json` as it goes (after the network,
/// after each process), so `run`, `status` and `down` find every namespace, process and mount,
/// even of an `up` that failed half-way.
///
/// The cluster itself is also recorded as a `LocalClusterState` in `DIR/cluster.json`, with the
/// daemons' namespace addresses: the CLI's verbs (`status --dir`, `put --dir`, `layout --dir`)
/// then work on the bed from the host, over the bridge.
struct TestbedState: Codable, Sendable {
    /// One daemon or mount, in the network namespace of `host`.
    struct Process: Codable, Sendable {
        /// `meta`, `storage` or `mount`.
        var kind: String
        var host: String
        var pid: Int32
        /// What it listens on (`host:port`); nil for a mount.
        var address: String?
        var logPath: String
        /// A mount's mount point (visible from the host: the mount runs in the host's mount namespace).
        var mountPoint: String?
    }

    var directory: String
    var plan: TestbedPlan
    /// The tbf rate on each end of each link.
    var rate: String
    /// The volume's codec and layout (k+m) the bed was made with.
    var codec: String
    var layout: String
    var processes: [Process] = []
    /// The PostgreSQL servers of a bed with two metadata hosts (the primary in meta0's
    /// namespace, the standby in meta1's), recorded as soon as they run so `down` stops them;
    /// nil with one metadata host (SQLite). Which one is the primary now is on disk
    /// (`LocalPostgres.isStandby`): `radonfs meta promote --dir DIR` swaps them in cluster.json.
    var postgres: LocalClusterState.Postgres?

    var mounts: [Process] { processes.filter { $0.kind == "mount" } }

    func mount(of host: TestbedPlan.Host) -> Process? { mounts.first { $0.host == host.name } }

    static func path(in directory: String) -> String { "\(directory)/testbed.json" }

    static func load(from directory: String) throws -> TestbedState {
        let path = path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no test bed in \(directory) (\(path) is missing); make one with `radonfs testbed up --dir \(directory)`")
        }
        do {
            return try JSONDecoder().decode(TestbedState.self, from: data)
        } catch {
            throw CLIError("\(path) is damaged: \(error)")
        }
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try PrivateState.writeFile(Array(try encoder.encode(self)), to: Self.path(in: directory))
    }
}
