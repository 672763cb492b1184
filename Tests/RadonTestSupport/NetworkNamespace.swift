import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A network namespace joined to the host's by a veth pair: a process started in it with
/// `ip netns exec` reaches the host only over that link, so bringing the link down cuts it off
/// (packets vanish, nothing is refused) without killing it.
public final class NetworkNamespace: Sendable {
    public let name: String
    public let hostInterface: String
    public let namespaceInterface: String
    /// The host side's address (the namespace reaches host services there).
    public let hostAddress: String
    /// The namespace side's address (host clients reach the process there).
    public let namespaceAddress: String

    /// Makes the namespace and its link, on a /24 under `addressPrefix` (tests that run beside
    /// each other use prefixes of their own); throws with `ip`'s exact error when this machine
    /// cannot (no root, no netns support).
    public init(addressPrefix: String = "10.213") throws {
        let tag = String(format: "%05d%03d", getpid() % 100_000, Int.random(in: 0..<1000))
        let subnet = Int.random(in: 1...250)
        name = "radonfs-test-\(tag)"
        hostInterface = "rfh\(tag)"
        namespaceInterface = "rfn\(tag)"
        hostAddress = "\(addressPrefix).\(subnet).1"
        namespaceAddress = "\(addressPrefix).\(subnet).2"
        do {
            try Self.ip(["netns", "add", name])
            try Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", namespaceInterface])
            try Self.ip(["link", "set", namespaceInterface, "netns", name])
            try Self.ip(["addr", "add", "\(hostAddress)/24", "dev", hostInterface])
            try Self.ip(["link", "set", hostInterface, "up"])
            try Self.ip(["-n", name, "addr", "add", "\(namespaceAddress)/24", "dev", namespaceInterface])
            try Self.ip(["-n", name, "link", "set", namespaceInterface, "up"])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// Brings the namespace's end of the link down (`up: false`) or up again.
    public func setLink(up: Bool) throws {
        try Self.ip(["-n", name, "link", "set", namespaceInterface, up ? "up" : "down"])
    }

    /// Deletes the namespace and the link (deleting one end of a veth deletes both). Safe to
    /// call twice.
    public func remove() {
        _ = try? Self.ip(["link", "del", hostInterface])
        _ = try? Self.ip(["netns", "del", name])
    }

    /// The command line that runs `arguments` inside the namespace.
    public func command(_ arguments: [String]) -> [String] {
        ["/usr/sbin/ip", "netns", "exec", name] + arguments
    }

    @discardableResult
    public static func ip(_ arguments: [String]) throws -> String {
        let (status, output) = try LocalProcess.output("/usr/sbin/ip", arguments)
        guard status == 0 else {
            throw TestFailure("ip \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return output
    }
}
