/// Which roles may make a request: a service's policy, checked by the connection layer on every
/// request before the service's handler runs (a refused request answers `.permissionDenied`).
///
/// It sees the whole request, not only its opcode, so an envelope (the metadata service's
/// `identified`) is judged by the request it carries.
public struct WireAccess: Sendable {
    private let rolesFor: @Sendable (WireRequest) -> WireRoles

    /// A policy from a function giving the roles allowed to make a request.
    public init(_ rolesFor: @escaping @Sendable (WireRequest) -> WireRoles) {
        self.rolesFor = rolesFor
    }

    /// The roles allowed to make `request`.
    public func allowedRoles(for request: WireRequest) -> WireRoles {
        rolesFor(request)
    }

    /// Every role may make every request: test servers and tools.
    public static let everyone = WireAccess { _ in .all }
}
