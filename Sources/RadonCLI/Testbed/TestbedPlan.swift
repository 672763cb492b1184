import Foundation

/// The layout of an emulated test bed: which hosts it has, the network namespace of each, and
/// the veth links and addresses that join them to one bridge. Pure: `TestbedNetwork` makes it.
///
/// Invariants: every address is in 10.214.0.0/16 (other suites use 10.213.x and 10.215.x), no
/// two links share an address or an interface name, and every interface name fits Linux's 15
/// characters (both ends of a pair are named uniquely: they sit in the machine's namespace
/// until one is moved). The bridge holds 10.214.0.1, the machine's own foot on the bed, so the
/// CLI reaches every daemon from outside the namespaces.
struct TestbedPlan: Codable, Equatable, Sendable {
    /// What a host does, as the paper's roles.
    enum Role: String, Codable, Sendable, CaseIterable {
        case meta, storage, client

        /// The letter in its interface names.
        var letter: String {
            switch self {
            case .meta: "m"
            case .storage: "s"
            case .client: "c"
            }
        }

        /// The third byte of its first link's address: roles apart, so an address says its role.
        var subnet: Int {
            switch self {
            case .meta: 1
            case .storage: 10
            case .client: 100
            }
        }
    }

    /// One veth pair: `hostInterface` is enslaved to the bridge, `namespaceInterface` lives in
    /// the host's namespace with `address`.
    struct Link: Codable, Equatable, Sendable {
        var hostInterface: String
        var namespaceInterface: String
        var address: String
    }

    /// One emulated machine.
    struct Host: Codable, Equatable, Sendable {
        var role: Role
        var index: Int
        /// The name `testbed run` takes: `meta0`, `storage3`, `client1`.
        var name: String
        /// The network namespace (`ip netns`), under /run/netns.
        var namespace: String
        /// Its links, the first one first; storage hosts may have several (`--paths`), client
        /// hosts too (`--client-paths`).
        var links: [Link]

        var addresses: [String] { links.map(\.address) }
    }

    static let bridge = "radonbed0"
    static let bridgeAddress = "10.214.0.1"
    static let prefixLength = 16
    /// Every address of the bed, as CIDR.
    static let network = "10.214.0.0/16"
    static let namespacePrefix = "radonbed-"
    /// Interface names start so, then a role letter, host index, `p`, path and `h` or `n`.
    static let interfacePrefix = "rb"
    /// Each direction of each link, as the paper's 1 GbE ports.
    static let defaultRate = "1gbit"

    static let storageHostRange = 1...60
    static let pathRange = 1...8
    /// One metadata host (SQLite), or two: an active/standby pair over a replicated PostgreSQL,
    /// the primary on meta0 and its streaming standby on meta1.
    static let metaRange = 1...2
    static let clientRange = 1...3

    var storageHosts: Int
    var paths: Int
    var metas: Int
    var clients: Int
    var hosts: [Host]

    /// Links per client host (`--client-paths`), read off the hosts so a saved plan needs no new field.
    var clientPaths: Int { hosts(.client).first?.links.count ?? 1 }

    init(storageHosts: Int = 6, paths: Int = 1, metas: Int = 1, clients: Int = 1, clientPaths: Int = 1) throws {
        guard Self.storageHostRange.contains(storageHosts) else {
            throw CLIError("--storage-hosts must be in \(Self.storageHostRange), got \(storageHosts)")
        }
        guard Self.pathRange.contains(paths) else { throw CLIError("--paths must be in \(Self.pathRange), got \(paths)") }
        guard Self.metaRange.contains(metas) else {
            throw CLIError("--metas must be 1 (SQLite) or 2 (an active/standby pair over PostgreSQL), got \(metas)")
        }
        guard Self.clientRange.contains(clients) else { throw CLIError("--clients must be in \(Self.clientRange), got \(clients)") }
        try Self.checkClientPaths(clientPaths, storagePaths: paths)
        self.storageHosts = storageHosts
        self.paths = paths
        self.metas = metas
        self.clients = clients
        hosts = (0..<metas).map { Self.host(.meta, $0, paths: 1) }
            + (0..<storageHosts).map { Self.host(.storage, $0, paths: paths) }
            + (0..<clients).map { Self.host(.client, $0, paths: clientPaths) }
    }

    /// Host `index` of `role` with `paths` links: path p of it is 10.214.(subnet + p).(index + 2),
    /// so a second path is on the same bridge but never collides with another host's first.
    static func host(_ role: Role, _ index: Int, paths: Int) -> Host {
        let name = "\(role.rawValue)\(index)"
        let links = (0..<paths).map { path in
            let stem = "\(interfacePrefix)\(role.letter)\(index)p\(path)"
            return Link(hostInterface: stem + "h", namespaceInterface: stem + "n", address: "10.214.\(role.subnet + path).\(index + 2)")
        }
        return Host(role: role, index: index, name: name, namespace: namespacePrefix + name, links: links)
    }

    /// Whether `name` is one of a bed's interfaces (by the pattern `host` names them): `down`
    /// removes leftovers of a crashed `up` by it, and nothing else another program made.
    static func isBedInterface(_ name: String) -> Bool {
        name.range(of: "^\(interfacePrefix)[msc][0-9]+p[0-9]+[hn]$", options: .regularExpression) != nil
    }

    func hosts(_ role: Role) -> [Host] { hosts.filter { $0.role == role } }

    /// The host `testbed run` names, with the names there are when there is none.
    func host(named name: String) throws -> Host {
        guard let host = hosts.first(where: { $0.name == name }) else {
            throw CLIError("no host \(name) in the test bed; there are: \(hosts.map(\.name).joined(separator: ", "))")
        }
        return host
    }
}
