/// Who is at the other end of an authenticated connection.
///
/// With mutual TLS: the certificate's common name and its role, after the chain was verified
/// against the cluster CA and the serial checked against the revocation list. With the shared
/// key (`--insecure`): `WirePeer.sharedKey`, which holds every role.
public struct WirePeer: Sendable, Hashable, CustomStringConvertible {
    /// The certificate's common name (a client or daemon name given at `radonfs cert issue`).
    public var name: String
    public var roles: WireRoles

    public init(name: String, roles: WireRoles) {
        self.name = name
        self.roles = roles
    }

    /// A peer that proved the cluster key on a plaintext connection.
    public static let sharedKey = WirePeer(name: "shared-key", roles: .all)

    public var description: String { "\(name) (\(roles))" }
}
