import Synchronization

/// The address a metadata server tells others it is at (`--advertise`, or its listen address with
/// the host name for a wildcard host), which `status` answers carry.
///
/// Set once the server listens: a server listening on port 0 only learns its port then, while a
/// lone server opens its store (and so its service) before it listens. Empty until set.
public final class AdvertisedAddress: Sendable {
    private let value = Mutex<String>("")

    public init(_ address: String = "") { value.withLock { $0 = address } }

    public var current: String { value.withLock { $0 } }

    public func set(_ address: String) { value.withLock { $0 = address } }
}
