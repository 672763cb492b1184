import Synchronization

/// The client certificates whose exports are read-only, as a storage daemon last heard them
/// from the metadata service (with its registration and every heartbeat): the daemon refuses
/// their fragment writes, so a read-only certificate cannot change a file's bytes behind the
/// metadata service's back.
///
/// Until the daemon first reaches the metadata service the set is empty.
public final class ReadOnlyClients: Sendable {
    private let names = Mutex<Set<String>>([])

    public init() {}

    public func contains(_ name: String) -> Bool {
        names.withLock { $0.contains(name) }
    }

    public func replace(with names: some Sequence<String>) {
        let fresh = Set(names)
        self.names.withLock { $0 = fresh }
    }
}
