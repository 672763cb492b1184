/// What a peer may do, named in its certificate (the subject's organizational unit).
///
/// A certificate carries exactly one role. Each service states, per opcode, which roles may
/// call it (`WireAccess`); the connection layer refuses everyone else before the service sees
/// the request. A peer on an `--insecure` (shared key) connection holds every role: plaintext
/// keeps phase one's trust model and exists for measuring what TLS costs.
public struct WireRoles: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// A metadata server: orders deletions on storage daemons, reads their status.
    public static let meta = WireRoles(rawValue: 1 << 0)
    /// A storage daemon: registers and heartbeats, claims healing jobs, copies fragments to its peers.
    public static let storage = WireRoles(rawValue: 1 << 1)
    /// A client (mount or file verbs): the namespace and fragment reads and writes.
    public static let client = WireRoles(rawValue: 1 << 2)
    /// An operator: everything, including the map, volumes and nodes.
    public static let admin = WireRoles(rawValue: 1 << 3)

    /// Every role: what a shared-key (`--insecure`) peer holds, and a test server's default policy.
    public static let all: WireRoles = [.meta, .storage, .client, .admin]
    /// The roles of daemons that serve the wire protocol: what a client accepts at the other end.
    public static let servers: WireRoles = [.meta, .storage]

    /// The names used in certificates and on the command line.
    public static let names: [(name: String, role: WireRoles)] = [
        ("meta", .meta), ("storage", .storage), ("client", .client), ("admin", .admin),
    ]

    /// The single role called `name`, or nil.
    public init?(name: String) {
        guard let match = Self.names.first(where: { $0.name == name }) else { return nil }
        self = match.role
    }

    public var description: String {
        let named = Self.names.filter { contains($0.role) }.map(\.name)
        return named.isEmpty ? "none" : named.joined(separator: "|")
    }
}
