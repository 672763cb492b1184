import Foundation

/// Several links per client host (`--client-paths`), as the paper's nodes, which are clients
/// and storage servers at once with four 1 GbE ports each.
///
/// Every link sits on the one bridge in 10.214.0.0/16, so by itself the kernel would send all
/// of a client's traffic out of its first link. The plan pairs the links by routes instead:
/// storage path p (10.214.(10+p).0/24) is reached from client link `p mod clientPaths`, from
/// that link's address; a /24 is more specific than the /16 every link is on, so it wins. A
/// client's further addresses carry no /16 route of their own (`noprefixroute`), so metadata
/// and everything else stays on its first link. The storage host answers on the same path:
/// what leaves from its path-p address goes out of its link p (a routing table per path, see
/// `TestbedNetwork`). So with as many client links as storage paths, each client link carries
/// exactly one storage path's traffic; with fewer, client link q carries paths q, q+C, q+2C...
///
/// Invariant: `clientPaths <= paths` (a client link paired with no storage path would carry
/// nothing and overstate the bed's bound).
extension TestbedPlan {
    /// One route in a host's namespace: `ip route add destination dev interface src source`.
    struct Route: Codable, Equatable, Sendable {
        var destination: String
        var interface: String
        var source: String

        var arguments: [String] { ["route", "add", destination, "dev", interface, "src", source] }
    }

    /// Refuses a client link count the storage paths cannot all use.
    static func checkClientPaths(_ clientPaths: Int, storagePaths: Int) throws {
        guard pathRange.contains(clientPaths) else {
            throw CLIError("--client-paths must be in \(pathRange), got \(clientPaths)")
        }
        guard clientPaths <= storagePaths else {
            throw CLIError("--client-paths \(clientPaths) is more than --paths \(storagePaths): a client link is paired with storage paths (path p with client link p mod \(clientPaths)), so the links beyond \(storagePaths) would carry nothing; ask for --paths \(clientPaths) or more")
        }
    }

    /// The storage paths (indices) a client reaches through its link `link`.
    func storagePaths(overClientLink link: Int) -> [Int] {
        (0..<paths).filter { $0 % clientPaths == link }
    }

    /// The link of client `host` that storage path `path` is reached over.
    func link(of host: Host, carrying path: Int) -> Link {
        host.links[path % host.links.count]
    }

    /// The routes that pair `host`'s links with the storage paths: none for a host of one link
    /// (everything leaves by it anyway) or of another role.
    func routes(of host: Host) -> [Route] {
        guard host.role == .client, host.links.count > 1 else { return [] }
        return (0..<paths).map { path in
            let link = link(of: host, carrying: path)
            return Route(
                destination: "10.214.\(Role.storage.subnet + path).0/24", interface: link.namespaceInterface, source: link.address)
        }
    }

    /// The links of the client hosts in words, one line per client link: which storage paths it carries.
    var clientLinkPlan: [String] {
        hosts(.client).flatMap { host in
            host.links.enumerated().map { index, link in
                let carried = storagePaths(overClientLink: index).map { "10.214.\(Role.storage.subnet + $0).x" }
                let extra = index == 0 ? " and metadata" : ""
                return "\(host.name) link \(index) \(link.address) (\(link.namespaceInterface)): storage \(carried.joined(separator: ", "))\(extra)"
            }
        }
    }
}
