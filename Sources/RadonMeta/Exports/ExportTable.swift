import RadonWire
import Synchronization

/// The exports, as this server last read them from its store.
///
/// Invariant: a change made through this server (`invalidate`) is seen by the next request;
/// a change made elsewhere (another metadata server before a takeover, a restore) within
/// `freshness`.
final class ExportTable: Sendable {
    /// How long a reading of the table stands.
    static let freshness: Duration = .seconds(5)

    private struct Reading {
        var rules: [String: ExportRule]
        var readAt: ContinuousClock.Instant
        var hasSubtrees: Bool { rules.values.contains { $0.root != SQLMetadataStore.rootInode } }
    }

    private let store: any MetadataStore
    private let reading = Mutex<Reading?>(nil)

    init(store: any MetadataStore) {
        self.store = store
    }

    /// The export of the client certificate named `name`, nil when it has none.
    func rule(named name: String) async throws -> ExportRule? {
        try await current().rules[name]
    }

    /// Whether any export shows less than the whole file system: only then does the service
    /// keep `SubtreeMembership` up to date as names go.
    func hasSubtrees() async throws -> Bool {
        try await current().hasSubtrees
    }

    /// The client certificates whose exports are read-only, sorted: storage daemons refuse
    /// their fragment writes (`NodeAcknowledgement.readOnlyClients`).
    func readOnlyClients() async throws -> [String] {
        try await current().rules.values.filter(\.readOnly).map(\.name).sorted()
    }

    /// Forgets the reading, so the next request reads the table again.
    func invalidate() {
        reading.withLock { $0 = nil }
    }

    private func current() async throws -> Reading {
        let now = ContinuousClock.now
        if let fresh = reading.withLock({ $0 }), fresh.readAt.duration(to: now) < Self.freshness { return fresh }
        let rules = try await store.exports()
        let fresh = Reading(rules: Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }), readAt: now)
        reading.withLock { $0 = fresh }
        return fresh
    }
}
