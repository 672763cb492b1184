import Logging
import RadonWire

/// Deletes the fragments of removed files, from the service's pending list.
///
/// A file's fragments go once its inode went (its last name removed and no session holding it
/// open): the service, not the client that removed it, sends `deleteFile` to every member of
/// the file's group and forgets the file only when every member answered. A member that is
/// down keeps the file on the list for the next pass, so no fragment is left behind by a
/// client that died, a node that was away, or an orphan freed when a session lapsed.
public final class PendingDeletionSweeper: Sendable {
    let store: any MetadataStore
    let pool: WireConnectionPool
    let logger: Logger
    /// Time between passes when nobody wakes the sweeper.
    let interval: Duration
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    public init(store: any MetadataStore, pool: WireConnectionPool, logger: Logger, interval: Duration = .seconds(5)) {
        self.store = store
        self.pool = pool
        self.logger = logger
        self.interval = interval
        (wakeups, wakeup) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass soon (a file was just removed).
    public func wake() { wakeup.yield() }

    /// Runs passes until cancelled: on every wake-up, and every `interval` anyway.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [wakeup, interval] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    wakeup.yield()
                }
            }
            for await _ in wakeups {
                if Task.isCancelled { break }
                await sweepOnce()
            }
            group.cancelAll()
        }
    }

    /// One pass over the pending list; returns how many files it deleted everywhere.
    @discardableResult
    public func sweepOnce() async -> Int {
        var deleted = 0
        do {
            while true {
                let pending = try await store.pendingDeletions(limit: 256)
                guard !pending.isEmpty else { break }
                var maps: [UInt32: GroupMap] = [:]
                var done: [UInt64] = []
                for file in pending {
                    if maps[file.volumeID] == nil { maps[file.volumeID] = try await store.groupMap(volumeID: file.volumeID) }
                    if await delete(file, map: maps[file.volumeID]!) { done.append(file.inode) }
                }
                try await store.confirmDeletions(done)
                deleted += done.count
                // What is left waits for a member to come back: try again on the next pass.
                if done.count < pending.count { break }
            }
        } catch {
            logger.warning("pending deletions not swept", metadata: ["error": "\(error)"])
        }
        return deleted
    }

    /// Deletes the file's fragments on every member of its group; false if a member is not up
    /// or failed (the file stays pending). A group no longer in the map has nothing to delete
    /// (its stale fragments are swept by the storage daemons).
    private func delete(_ file: RemovedFile, map: GroupMap) async -> Bool {
        guard let group = map.groups.first(where: { $0.id == file.groupID }) else { return true }
        let nodes = Dictionary(map.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let members = group.members.compactMap { nodes[$0] }
        guard members.count == group.members.count, members.allSatisfy({ $0.state == .up }) else { return false }
        let pool = self.pool
        return await withTaskGroup(of: Bool.self) { tasks in
            for member in members {
                tasks.addTask {
                    do {
                        let storage = StorageClient(connection: try await pool.connection(to: member.address), timeout: .seconds(10))
                        _ = try await storage.deleteFile(group: file.groupID, inode: file.inode)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await tasks.allSatisfy { $0 }
        }
    }
}
