import Logging
import Synchronization

/// Sends fragment requests to storage nodes with several network paths, over those paths as a
/// load-balancing group (`NodePathSet` chooses), and rides through the death of a path.
///
/// A node is known by its first address (what layouts carry); `learn` records its other paths
/// from the group map. A node with one path, or one never learnt, gets its request exactly as
/// before, on that address with the caller's timeout and nothing else.
///
/// With several paths, a request that fails on a path for a reason of the path (refused, reset,
/// closed, timed out) is sent again on another one at once, and one with no answer after
/// `silentAfter` (a link that went down drops packets; nothing is refused) is sent again on
/// another live path while the first keeps waiting; the first answer wins. `silentAfter` grows
/// to four times the node's usual answer time when that is longer, up to a second
/// (`NodePathSet.silentDelay`): a node slow on every path is not a dead link. A path that failed,
/// or stayed silent while another answered, leaves the rotation and is probed (a connection
/// ping) in the background until it answers. Only idempotent requests come through here: reads
/// (whole slots and ranges); fragment writes, which the node applies by slot version (the same
/// version again overwrites the slot with the same bytes; an older one is refused as stale);
/// and the drop of a previous copy, a truncate and a delete, which change nothing when repeated.
final class MultipathRouter: Sendable {
    /// Known nodes by first address; guarded by the mutex, never held across an await.
    private let nodes = Mutex<[WireAddress: NodePathSet]>([:])
    let pool: WireConnectionPool
    let logger: Logger
    /// How often a path out of the rotation is probed.
    let probeInterval: Duration

    init(pool: WireConnectionPool, logger: Logger = Logger(label: "radonfs.multipath"), probeInterval: Duration = .milliseconds(250)) {
        self.pool = pool
        self.logger = logger
        self.probeInterval = probeInterval
    }

    /// Records the paths of `endpoints`; a node whose paths changed starts afresh, all live.
    func learn(_ endpoints: [NodeEndpoint]) {
        nodes.withLock { nodes in
            for endpoint in endpoints {
                let paths = endpoint.paths
                if paths.count == 1 {
                    nodes[endpoint.address] = nil
                } else if nodes[endpoint.address]?.paths.map(\.address) != paths {
                    nodes[endpoint.address] = NodePathSet(paths)
                }
            }
        }
    }

    /// The paths known for the node at `address` (just `address` when it has one).
    func paths(of address: WireAddress) -> [WireAddress] {
        nodes.withLock { $0[address]?.paths.map(\.address) } ?? [address]
    }

    private enum Event<Value: Sendable>: Sendable {
        case finished(Int, Result<Value, any Error>)
        case silent(Int)
    }

    /// Runs `operation` on a path of the node at `address` (see the type's description).
    func perform<Value: Sendable>(
        on address: WireAddress, silentAfter: Duration, _ operation: @escaping @Sendable (WireAddress) async throws -> Value
    ) async throws -> Value {
        guard let silentAfter = nodes.withLock({ $0[address]?.silentDelay(base: silentAfter) }) else {
            return try await operation(address)
        }
        let (events, sink) = AsyncStream<Event<Value>>.makeStream()
        var tried: Set<Int> = []
        var pending: Set<Int> = []
        var timers: [Task<Void, Never>] = []
        defer {
            sink.finish()
            for timer in timers { timer.cancel() }
        }
        func launch(excluding excluded: Set<Int>) -> Bool {
            guard let (index, path) = nodes.withLock({ nodes -> (Int, WireAddress)? in
                guard let index = nodes[address]?.choose(excluding: excluded) else { return nil }
                return (index, nodes[address]!.paths[index].address)
            }) else { return false }
            tried.insert(index)
            pending.insert(index)
            Task {
                let started = ContinuousClock.now
                let result: Result<Value, any Error>
                do { result = .success(try await operation(path)) } catch { result = .failure(error) }
                let latency = ContinuousClock.now - started
                self.nodes.withLock { nodes in
                    nodes[address]?.finish(index)
                    if case .success = result { nodes[address]?.recordAnswer(after: latency) }
                }
                sink.yield(.finished(index, result))
            }
            timers.append(Task {
                try? await Task.sleep(for: silentAfter)
                if !Task.isCancelled { sink.yield(.silent(index)) }
            })
            return true
        }
        _ = launch(excluding: [])
        var lastError: (any Error)?
        for await event in events {
            switch event {
            case .finished(let index, .success(let value)):
                // Paths asked earlier and still silent while this one answered are cut off.
                for silent in pending.subtracting([index]) { markDown(address, index: silent, reason: "no answer while another path answered") }
                return value
            case .finished(let index, .failure(let error)):
                pending.remove(index)
                guard Self.isPathFailure(error) else { throw error }
                lastError = error
                markDown(address, index: index, reason: "\(error)")
                if !launch(excluding: tried), pending.isEmpty { throw error }
            case .silent(let index):
                guard pending.contains(index), nodes.withLock({ $0[address]?.hasOtherLivePath(than: tried) ?? false }) else { continue }
                _ = launch(excluding: tried)
            }
        }
        throw lastError ?? WireError(.unavailable, "no path to \(address) answered")
    }

    /// Whether `error` says the path failed rather than the node answering with an error.
    static func isPathFailure(_ error: any Error) -> Bool {
        guard let wire = error as? WireError else { return true }
        return wire.status == .unavailable || wire.status == .timedOut
    }

    /// Takes a path out of the rotation and, if it was live, probes it until it answers.
    private func markDown(_ address: WireAddress, index: Int, reason: String) {
        guard let path = nodes.withLock({ nodes -> WireAddress? in
            guard nodes[address]?.markDown(index) == true else { return nil }
            return nodes[address]!.paths[index].address
        }) else { return }
        logger.warning("storage path down; using the node's other paths", metadata: ["node": "\(address)", "path": "\(path)", "reason": "\(reason)"])
        Task { await probe(address, index: index, path: path) }
    }

    /// Pings `path` every `probeInterval` (a fresh connection after each failure: the old one
    /// may sit on a dead link) until it answers, then puts it back in the rotation.
    private func probe(_ address: WireAddress, index: Int, path: WireAddress) async {
        while nodes.withLock({ $0[address]?.paths.indices.contains(index) == true && $0[address]!.paths[index].address == path }) {
            try? await Task.sleep(for: probeInterval)
            do {
                try await pool.connection(to: path).ping(timeout: .milliseconds(500))
                nodes.withLock { $0[address]?.markUp(index) }
                logger.notice("storage path answers again", metadata: ["node": "\(address)", "path": "\(path)"])
                return
            } catch {
                await pool.discard(path)
            }
        }
    }
}
