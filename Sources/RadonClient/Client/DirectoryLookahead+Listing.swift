import RadonWire

/// Names a directory does not hold, answered without the service: creating files (`cp -r`,
/// `tar x`, a build's outputs, `open(O_CREAT)` of new names) looks each new name up first, and
/// every such lookup was a round trip that could only say "absent". A directory this client is
/// filling gets a whole listing of its names; a name not in it is answered absent.
///
/// Invariants (besides `DirectoryLookahead`'s):
/// - A listing holds every name of its directory as of `askedAt` (it was read whole after
///   then, or is a directory this client made, empty when made), with every name this
///   client added or removed since; it answers only within `lifetime` of `askedAt` and only
///   its caller, the one whose lookups the service answered "absent" (search permission) or
///   who made the directory. Another client's new name is so missed for at most `lifetime`,
///   as a cached attribute may be.
/// - A listing only answers "absent": a name it holds goes to a window or the service.
/// - A change of this client whose outcome is not known (it failed) drops the listings of its
///   directories (`dropListing`); a listing read while this client changed anything is not
///   kept (`generation`), and its directory is not listed again within `lifetime`, so writers
///   on several threads pay at most one listing a second.
/// - A directory with more than `listingLimit` names is not listed, and not tried again for
///   `quietPeriod`.
extension DirectoryLookahead {
    /// The names of one directory.
    struct Listing {
        var caller: MetaCaller
        var askedAt: ContinuousClock.Instant
        var names: Set<FileName>
        /// How many lookups it answered "absent": a listing that answered none is not read again.
        var answers = 0
    }

    /// Recent lookups the service answered "absent", per directory: what tells it is being filled.
    struct Absences {
        var caller: MetaCaller
        var last: ContinuousClock.Instant
        var count: Int
        var quietUntil: ContinuousClock.Instant?
    }

    /// The most names a listing holds (a directory past it costs plain lookups).
    static let listingLimit = 8192
    /// At most this many directories have a listing.
    static let listingDirectoryLimit = 16

    /// `.absent` from a fresh listing that lacks `name`; `.list` when an expired listing that
    /// answered lacks it too, or the service answered "absent" `scanLength` times in a row
    /// within `lifetime`; nil when neither knows.
    mutating func listingPlan(parent: UInt64, name: FileName, caller: MetaCaller, now: ContinuousClock.Instant) -> Plan? {
        guard name.count <= MetaLimits.maximumNameLength else { return nil }
        if let listing = listings[parent], listing.caller == caller {
            if now - listing.askedAt < lifetime {
                guard !listing.names.contains(name) else { return nil }
                listings[parent]?.answers += 1
                return .absent
            }
            listings[parent] = nil
            if listing.answers > 0, !listing.names.contains(name), !isQuiet(parent, now: now) {
                return .list(generation: generation)
            }
            return nil
        }
        guard let absences = absences[parent], absences.caller == caller, now - absences.last < lifetime,
              absences.count >= Self.scanLength, !isQuiet(parent, now: now) else { return nil }
        return .list(generation: generation)
    }

    /// The service answered that `name` is not in `parent`.
    mutating func noteAbsent(in parent: UInt64, caller: MetaCaller, now: ContinuousClock.Instant) {
        var noted = absences[parent] ?? Absences(caller: caller, last: now, count: 0)
        noted.count = noted.caller == caller && now - noted.last < lifetime ? noted.count + 1 : 1
        noted.caller = caller
        noted.last = now
        if absences[parent] == nil, absences.count >= Self.scanLimit { absences.removeAll() }
        absences[parent] = noted
    }

    /// Keeps the names a listing of `parent` read (nil: too many, or the read failed), unless
    /// this client changed something since it asked.
    mutating func keepListing(
        _ names: Set<FileName>?, of parent: UInt64, caller: MetaCaller, askedAt: ContinuousClock.Instant,
        generation asked: UInt64, now: ContinuousClock.Instant
    ) {
        guard let names else { return quiet(parent, for: Self.quietPeriod, caller: caller, now: now) }
        guard asked == generation else { return quiet(parent, for: lifetime, caller: caller, now: now) }
        store(Listing(caller: caller, askedAt: askedAt, names: names), of: parent)
    }

    /// `directory` was just made by `caller`, who may search it: it is empty as of `askedAt`
    /// (when the request left, before the directory was).
    mutating func keepEmptyListing(of directory: UInt64, caller: MetaCaller, askedAt: ContinuousClock.Instant) {
        store(Listing(caller: caller, askedAt: askedAt, names: []), of: directory)
    }

    /// This client made `name` in `parent` (`exists`), or removed it.
    mutating func changed(_ name: FileName, in parent: UInt64, exists: Bool) {
        forget(name, in: parent)
        forget(inode: parent)
        if exists {
            listings[parent]?.names.insert(name)
        } else {
            listings[parent]?.names.remove(name)
        }
    }

    /// This client renamed `name` in `parent` to `newName` in `newParent` (or exchanged the two).
    mutating func renamed(_ name: FileName, in parent: UInt64, to newName: FileName, in newParent: UInt64, exchange: Bool) {
        if !exchange {
            listings[parent]?.names.remove(name)
            listings[newParent]?.names.insert(newName)
        }
        forgetAll()
    }

    /// A change of this client in `directory` failed, and may have happened or not.
    mutating func dropListing(of directory: UInt64) {
        generation &+= 1
        listings[directory] = nil
    }

    private mutating func store(_ listing: Listing, of directory: UInt64) {
        if listings[directory] == nil, listings.count >= Self.listingDirectoryLimit,
           let oldest = listings.min(by: { $0.value.askedAt < $1.value.askedAt })?.key {
            listings[oldest] = nil
        }
        listings[directory] = listing
    }

    private func isQuiet(_ directory: UInt64, now: ContinuousClock.Instant) -> Bool {
        absences[directory]?.quietUntil.map { now < $0 } ?? false
    }

    private mutating func quiet(_ directory: UInt64, for period: Duration, caller: MetaCaller, now: ContinuousClock.Instant) {
        if absences[directory] == nil, absences.count >= Self.scanLimit { absences.removeAll() }
        absences[directory, default: Absences(caller: caller, last: now, count: 0)].quietUntil = now + period
    }
}
