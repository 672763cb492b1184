import RadonWire

/// What a client keeps of the directories it is scanning name by name: `ls -l` without
/// readdirplus, `find`, `rsync` or a `stat` of every file look names up one by one, in the
/// directory's listing order, each a round trip to the metadata service. Once a scan shows,
/// the client asks its next lookup in that directory with the entries that follow
/// (`LookaheadRequest`) and answers the scan's next lookups from that window.
///
/// Invariants:
/// - A window answers only lookups of the caller the service checked it for, and only
///   within `lifetime` of when it was asked: no older than an attribute the kernel caches
///   (the mount gives the kernel what is left of that lifetime, not a fresh one).
/// - It never answers that a name is absent: a name not in a window goes to the service, so
///   a file another client made and closed opens here at once (close-to-open for new names).
/// - Every change this client makes forgets what it touched (`forget(inode:)`,
///   `forget(_:in:)`, or `forgetAll` when it cannot tell, which ends every scan too, but an
///   unlink's own directory's: a loop of renames no window can name costs plain lookups, not
///   windows, while unlinking name by name is a scan), and a window asked before any
///   change is not kept (`generation`): whatever this client changes, it never reads back the
///   state from before its own change.
/// - A window that served nothing silences lookahead in its directory for `quietPeriod`, so
///   lookups in random order cost no more than plain ones for long.
struct DirectoryLookahead {
    /// One directory's following entries, as the service sent them.
    struct Window {
        var caller: MetaCaller
        var askedAt: ContinuousClock.Instant
        var entries: [FileName: InodeAttributes]
        /// How many entries were asked (the window may hold fewer, at the directory's end).
        var size: Int
        var hits = 0
    }

    /// Recent lookups that went to the service, per directory: what tells a scan.
    struct Scan {
        var lastLookup: ContinuousClock.Instant
        var lookups: Int
        var nextSize: Int
        var quietUntil: ContinuousClock.Instant?
    }

    /// What to do with a lookup.
    enum Plan: Equatable {
        /// Answered from a window: its attributes, when the window was asked, and how much
        /// longer they may be trusted.
        case answered(InodeAttributes, askedAt: ContinuousClock.Instant, trustedFor: Duration)
        /// Ask the service, with `following` entries after the name (0: a plain lookup);
        /// pass `generation` back to `keep`.
        case ask(following: Int, generation: UInt64)
    }

    static let firstSize = 64
    static let largestSize = 1024
    /// Lookups in one directory within `lifetime` of each other that make a scan.
    static let scanLength = 3
    static let quietPeriod: Duration = .seconds(10)
    /// At most this many directories have a window, and this many a scan count.
    static let windowLimit = 16
    static let scanLimit = 256

    let lifetime: Duration
    private(set) var windows: [UInt64: Window] = [:]
    private var scans: [UInt64: Scan] = [:]
    private(set) var generation: UInt64 = 0
    /// How many window entries name each inode (hard links may sit in several), so a change
    /// to an inode no window holds (most writes) costs one dictionary lookup.
    private var windowedInodes: [UInt64: Int] = [:]
    /// Set when the service does not know `lookupAhead` (an older server): plain lookups only.
    var isUnsupported = false

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// The plan for a lookup of `name` in `parent` by `caller`; counts it towards a scan when
    /// it goes to the service.
    mutating func plan(parent: UInt64, name: FileName, caller: MetaCaller, now: ContinuousClock.Instant) -> Plan {
        let plain = Plan.ask(following: 0, generation: generation)
        guard !isUnsupported, name != .dot, name != .dotDot else { return plain }
        var previous: Window?
        if let window = windows[parent] {
            let age = now - window.askedAt
            if age < lifetime, window.caller == caller, let attributes = window.entries[name] {
                windows[parent]?.hits += 1
                return .answered(attributes, askedAt: window.askedAt, trustedFor: lifetime - age)
            }
            previous = window
            dropWindow(of: parent)
        }
        var scan = scans[parent] ?? Scan(lastLookup: now, lookups: 0, nextSize: Self.firstSize)
        scan.lookups = now - scan.lastLookup < lifetime ? scan.lookups + 1 : 1
        scan.lastLookup = now
        if let previous {
            if previous.hits == 0 {
                scan.quietUntil = now + Self.quietPeriod
                scan.nextSize = Self.firstSize
            } else if previous.hits * 2 >= previous.size {
                scan.nextSize = min(previous.size * 2, Self.largestSize)
            }
        }
        if scans[parent] == nil, scans.count >= Self.scanLimit { scans.removeAll() }
        scans[parent] = scan
        if let quietUntil = scan.quietUntil, now < quietUntil { return plain }
        // A window that served its scan ends at a name it did not hold: the scan goes on.
        let scanning = (previous?.hits ?? 0) > 0 || scan.lookups >= Self.scanLength
        return scanning ? .ask(following: scan.nextSize, generation: generation) : plain
    }

    /// Keeps the entries a lookahead of `size` brought for `caller` (with the name it looked
    /// up, so a change to that name right after, an unlink scan's, forgets it alone), unless
    /// this client changed something since it asked (`generation`).
    mutating func keep(
        _ following: [DirectoryEntry], after lookedUp: DirectoryEntry? = nil, in parent: UInt64, size: Int, caller: MetaCaller,
        askedAt: ContinuousClock.Instant, generation asked: UInt64
    ) {
        guard asked == generation, !following.isEmpty else { return }
        if windows[parent] == nil, windows.count >= Self.windowLimit,
           let oldest = windows.min(by: { $0.value.askedAt < $1.value.askedAt })?.key {
            dropWindow(of: oldest)
        }
        dropWindow(of: parent)
        var entries: [FileName: InodeAttributes] = [:]
        entries.reserveCapacity(following.count)
        for entry in following + (lookedUp.map { [$0] } ?? []) where entry.name != .dot && entry.name != .dotDot {
            entries[entry.name] = entry.attributes
        }
        for attributes in entries.values { windowedInodes[attributes.inode, default: 0] += 1 }
        windows[parent] = Window(caller: caller, askedAt: askedAt, entries: entries, size: size)
    }

    /// The inode `name` in `parent` names, if a window holds it.
    func inode(named name: FileName, in parent: UInt64) -> UInt64? {
        windows[parent]?.entries[name]?.inode
    }

    /// This client changed `inode` (its data, attributes or links): no window answers with it.
    mutating func forget(inode: UInt64) {
        generation &+= 1
        guard windowedInodes.removeValue(forKey: inode) != nil else { return }
        for (parent, window) in windows {
            windows[parent]?.entries = window.entries.filter { $0.value.inode != inode }
        }
    }

    /// This client added, removed or replaced `name` in `parent`.
    mutating func forget(_ name: FileName, in parent: UInt64) {
        generation &+= 1
        if let removed = windows[parent]?.entries.removeValue(forKey: name) { uncount(removed.inode) }
    }

    /// This client removed `name` from `parent`: its inode lost a link, so every name of it
    /// goes, when a window held the name; else every window (which inode is not known), but
    /// the scan of `parent` goes on: unlinking names one by one (`rm` of each, the kernel's
    /// dentries gone) is a scan of that directory, and its first window holds each name it
    /// answers, so the unlinks after it are the targeted kind.
    mutating func forgetRemoval(of name: FileName, in parent: UInt64) {
        guard let inode = inode(named: name, in: parent) else { return forgetAll(keepingScanOf: parent) }
        forget(name, in: parent)
        forget(inode: inode)
        forget(inode: parent)
    }

    /// This client changed something it cannot name (a rename, which may have replaced a
    /// file no window held; an unlink of a name no window held): no window may answer.
    /// Scans start again too: a loop that changes what it scans in ways no window can name
    /// (renames of names no window held) must not pay for a large window at every step.
    /// `keepingScanOf` a directory keeps that one scan (an unlink in it: see `forgetRemoval`).
    mutating func forgetAll(keepingScanOf kept: UInt64? = nil) {
        generation &+= 1
        if !windows.isEmpty { windows.removeAll() }
        if !windowedInodes.isEmpty { windowedInodes.removeAll() }
        if !scans.isEmpty { scans = scans.filter { $0.key == kept } }
    }

    private mutating func dropWindow(of parent: UInt64) {
        guard let window = windows.removeValue(forKey: parent) else { return }
        for attributes in window.entries.values { uncount(attributes.inode) }
    }

    private mutating func uncount(_ inode: UInt64) {
        guard let count = windowedInodes[inode] else { return }
        windowedInodes[inode] = count > 1 ? count - 1 : nil
    }

    /// How many window entries there are, as `windowedInodes` counts them (for tests).
    var countedEntries: Int { windowedInodes.values.reduce(0, +) }
}
