import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One more veth pair between the host and an existing `NetworkNamespace`, on a /24 of its
/// own: a second network path to the processes in it (a storage node with two ports). Taking
/// it down cuts that path only.
public final class NamespaceLink: Sendable {
    public let namespace: NetworkNamespace
    public let hostInterface: String
    public let namespaceInterface: String
    public let hostAddress: String
    public let namespaceAddress: String

    /// Adds the link on `addressPrefix.<subnet>.0/24` (a subnet that the namespace's first
    /// link does not use); throws with `ip`'s error, after removing what it made.
    public init(to namespace: NetworkNamespace, addressPrefix: String, subnet: Int) throws {
        let tag = String(format: "%05d%03d", getpid() % 100_000, Int.random(in: 0..<1000))
        self.namespace = namespace
        hostInterface = "rfH\(tag)"
        namespaceInterface = "rfN\(tag)"
        hostAddress = "\(addressPrefix).\(subnet).1"
        namespaceAddress = "\(addressPrefix).\(subnet).2"
        do {
            try NetworkNamespace.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", namespaceInterface])
            try NetworkNamespace.ip(["link", "set", namespaceInterface, "netns", namespace.name])
            try NetworkNamespace.ip(["addr", "add", "\(hostAddress)/24", "dev", hostInterface])
            try NetworkNamespace.ip(["link", "set", hostInterface, "up"])
            try NetworkNamespace.ip(["-n", namespace.name, "addr", "add", "\(namespaceAddress)/24", "dev", namespaceInterface])
            try NetworkNamespace.ip(["-n", namespace.name, "link", "set", namespaceInterface, "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// Brings the namespace's end of this link down (`up: false`) or up again.
    public func setLink(up: Bool) throws {
        try NetworkNamespace.ip(["-n", namespace.name, "link", "set", namespaceInterface, up ? "up" : "down"])
    }

    /// Deletes the pair (deleting one end deletes both). Safe to call twice, and after the
    /// namespace is gone.
    public func remove() {
        _ = try? NetworkNamespace.ip(["link", "del", hostInterface])
    }
}
