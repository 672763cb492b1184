import Synchronization

/// The newest members this client knows for each placement group, so open files follow the
/// map as it changes (a down member replaced by a spare, a rebuild, a rebalance) without
/// reopening, and without a client restart.
///
/// A file's layout is read at open; each block read or write asks `current(_:)`, which swaps in
/// the newest known members of the group and re-reads the layout from the metadata service when
/// its knowledge is older than `refreshInterval`, or at once after a write missed a member.
final class GroupMembership: Sendable {
    struct Entry {
        var group: PlacementGroup
        var members: [NodeEndpoint]
        var checked: ContinuousClock.Instant
    }

    /// Reads a file's layout fresh from the metadata service.
    typealias Source = @Sendable (UInt64) async throws -> FileLayout

    private struct State {
        var entries: [UInt32: Entry] = [:]
        var source: Source?
    }

    /// Entries per group and where to refresh them; guarded by the mutex, never across an await.
    private let state = Mutex(State())
    let refreshInterval: Duration

    init(refreshInterval: Duration = .seconds(2)) {
        self.refreshInterval = refreshInterval
    }

    func setSource(_ source: @escaping Source) {
        state.withLock { $0.source = source }
    }

    /// `layout` with the newest members known for its group; refreshed from the service when
    /// stale, or always with `force`.
    func current(_ layout: FileLayout, force: Bool = false) async -> FileLayout {
        let now = ContinuousClock.now
        let (entry, source) = state.withLock { state -> (Entry?, Source?) in
            if state.entries[layout.group.id] == nil || state.entries[layout.group.id]!.group.epoch < layout.group.epoch {
                state.entries[layout.group.id] = Entry(group: layout.group, members: layout.members, checked: now)
            }
            return (state.entries[layout.group.id], state.source)
        }
        var result = layout
        if let entry {
            result.group = entry.group
            result.members = entry.members
        }
        guard let source, force || (entry.map { now - $0.checked >= refreshInterval } ?? true) else { return result }
        guard let fresh = try? await source(layout.inode), fresh.group.id == layout.group.id else { return result }
        state.withLock { state in
            if (state.entries[fresh.group.id]?.group.epoch ?? 0) <= fresh.group.epoch {
                state.entries[fresh.group.id] = Entry(group: fresh.group, members: fresh.members, checked: .now)
            }
        }
        result.group = fresh.group
        result.members = fresh.members
        return result
    }
}
