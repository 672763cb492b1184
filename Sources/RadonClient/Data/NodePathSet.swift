import RadonWire

/// The network paths of one storage node as a load-balancing group: which path the next
/// fragment request takes, and which paths are live.
///
/// A pure value: `MultipathRouter` keeps one per node under its lock and the transport acts on
/// what it answers. Invariants: `paths` is never empty and keeps the registration order; an
/// index handed out by `choose` is valid for the life of the set; `outstanding` never goes
/// below zero.
struct NodePathSet: Sendable, Hashable {
    struct Path: Sendable, Hashable {
        var address: WireAddress
        /// False once a request on it failed or went unanswered while another path answered;
        /// true again when a background probe gets an answer.
        var isLive = true
        /// Requests sent on it that have not finished.
        var outstanding = 0
    }

    private(set) var paths: [Path]
    /// Where the round robin among equally loaded paths starts next.
    private var next = 0
    /// How long the node's answered requests took, smoothed (an exponential moving average
    /// weighting the newest 1/8, as TCP's SRTT); nil before the first answer.
    private(set) var smoothedLatency: Duration?

    init(_ addresses: [WireAddress]) {
        precondition(!addresses.isEmpty, "a node has at least one path")
        paths = addresses.map { Path(address: $0) }
    }

    var liveCount: Int { paths.filter(\.isLive).count }

    /// The path for the next request, counted as outstanding on it: the live path with the
    /// fewest requests outstanding, ties broken round robin, never one in `excluded`. With no
    /// live path left it picks among the others alike (the node may still answer there, and
    /// the caller must see the real error if not); nil when every path is excluded.
    mutating func choose(excluding excluded: Set<Int> = []) -> Int? {
        let candidates = paths.indices.filter { !excluded.contains($0) }
        let live = candidates.filter { paths[$0].isLive }
        let pool = live.isEmpty ? candidates : live
        guard !pool.isEmpty else { return nil }
        let count = paths.count
        let chosen = pool.min { a, b in
            if paths[a].outstanding != paths[b].outstanding { return paths[a].outstanding < paths[b].outstanding }
            return (a - next + count) % count < (b - next + count) % count
        }!
        next = (chosen + 1) % count
        paths[chosen].outstanding += 1
        return chosen
    }

    /// A request on path `index` is over, whatever its outcome.
    mutating func finish(_ index: Int) {
        paths[index].outstanding = max(0, paths[index].outstanding - 1)
    }

    /// Takes path `index` out of the rotation; true when it was live (the caller then starts
    /// the one probe that brings it back).
    mutating func markDown(_ index: Int) -> Bool {
        defer { paths[index].isLive = false }
        return paths[index].isLive
    }

    mutating func markUp(_ index: Int) {
        paths[index].isLive = true
    }

    /// A request answered after `latency`: the node's usual pace, which `silentDelay` follows.
    mutating func recordAnswer(after latency: Duration) {
        smoothedLatency = smoothedLatency.map { $0 * 7 / 8 + latency / 8 } ?? latency
    }

    /// How long a request waits on one path before it counts as silent and is sent on another
    /// too: `base`, or four times the node's usual answer time when that is longer, so a node
    /// that is slow on every path (a busy disk, a loaded machine) is not sent duplicates of
    /// each request and its paths are not taken out of the rotation in turn. Never past
    /// `ceiling` (at least `base`): a link that died must still be left within a second.
    func silentDelay(base: Duration, ceiling: Duration = .seconds(1)) -> Duration {
        let usual = (smoothedLatency ?? .zero) * 4
        return min(max(base, usual), max(base, ceiling))
    }

    /// Whether another path than `index`, not in `excluded`, is live: only then is a silent
    /// request worth sending again elsewhere.
    func hasOtherLivePath(than excluded: Set<Int>) -> Bool {
        paths.indices.contains { !excluded.contains($0) && paths[$0].isLive }
    }
}
