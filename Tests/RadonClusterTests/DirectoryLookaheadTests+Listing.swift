@testable import RadonClient
import RadonWire
import Testing

/// The client's listings of directories being filled, on the lookahead suite's clock: which
/// lookups they answer "absent", for how long, for whom, and what a change of this client
/// does to them.
extension DirectoryLookaheadTests {
    /// Whether the lookup goes to the service (plainly or asking ahead: scans are not this suite's).
    func asks(_ plan: DirectoryLookahead.Plan) -> Bool {
        if case .ask = plan { true } else { false }
    }

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    /// A listing of `directory` holding `names`, asked at `start`.
    func listed(_ names: [FileName], caller: MetaCaller? = nil) -> DirectoryLookahead {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keepListing(Set(names), of: directory, caller: caller ?? root, askedAt: start, generation: 0, now: start)
        return lookahead
    }

    @Test func threeAbsentNamesInARowListTheDirectory() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<3 {
            #expect(asks(plan(&lookahead, "new-\(index)", at: index)))
            lookahead.noteAbsent(in: directory, caller: root, now: at(index))
        }
        #expect(plan(&lookahead, "new-3", at: 3) == .list(generation: 0))
        // Spread out, or another caller's, they are no run.
        var spread = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<3 { spread.noteAbsent(in: directory, caller: index == 1 ? user : root, now: at(index)) }
        #expect(asks(plan(&spread, "new-3", at: 3)))
        for index in 0..<3 { spread.noteAbsent(in: directory, caller: root, now: at(1500 * index)) }
        #expect(asks(plan(&spread, "new-4", at: 3001)))
    }

    @Test func aFreshListingAnswersAbsentNamesOnlyForItsCallerAndLifetime() {
        var lookahead = listed(["a", "b"])
        #expect(plan(&lookahead, "c", at: 10) == .absent)
        #expect(asks(plan(&lookahead, "a", at: 10)), "a listed name goes to the service")
        #expect(asks(plan(&lookahead, "c", at: 10, caller: user)))
        #expect(asks(plan(&lookahead, "c", at: 10, in: 8)))
        let long = FileName(String(repeating: "x", count: MetaLimits.maximumNameLength + 1))
        #expect(asks(lookahead.plan(parent: directory, name: long, caller: root, now: at(10))),
                "the service says a name is too long")
        #expect(plan(&lookahead, "c", at: 999) == .absent)
        // Expired after answering: read again for the next absent name, not for a listed one.
        #expect(plan(&lookahead, "d", at: 1000) == .list(generation: 0))
        var listedName = listed(["a"])
        #expect(plan(&listedName, "z", at: 1) == .absent)
        #expect(asks(plan(&listedName, "a", at: 1000)))
        #expect(listedName.listings.isEmpty)
        // Expired without answering: dropped, not read again.
        var unused = listed(["a"])
        #expect(asks(plan(&unused, "d", at: 1000)))
        #expect(unused.listings.isEmpty)
    }

    @Test func thisClientsChangesAreInItsListings() {
        var lookahead = listed(["a", "b"])
        lookahead.changed("c", in: directory, exists: true)
        lookahead.changed("a", in: directory, exists: false)
        let generation = lookahead.generation
        #expect(asks(plan(&lookahead, "c", at: 1)))
        #expect(plan(&lookahead, "a", at: 1) == .absent)
        lookahead.forgetRemoval(of: "b", in: directory)
        #expect(plan(&lookahead, "b", at: 1) == .absent)
        lookahead.renamed("c", in: directory, to: "d", in: directory, exchange: false)
        #expect(plan(&lookahead, "c", at: 1) == .absent)
        #expect(asks(plan(&lookahead, "d", at: 1)))
        lookahead.renamed("d", in: directory, to: "e", in: directory, exchange: true)
        #expect(asks(plan(&lookahead, "d", at: 1)), "an exchange keeps both names")
        // Into another directory's listing, which learns the name.
        lookahead.keepEmptyListing(of: 8, caller: root, askedAt: start)
        lookahead.renamed("d", in: directory, to: "moved", in: 8, exchange: false)
        #expect(plan(&lookahead, "d", at: 1) == .absent)
        #expect(asks(plan(&lookahead, "moved", at: 1, in: 8)))
        // A change that failed may have happened: no listing of its directory answers any more.
        lookahead.dropListing(of: directory)
        #expect(asks(plan(&lookahead, "zzz", at: 1)))
    }

    @Test func aListingReadWhileThisClientChangedSomethingIsNotKept() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.changed("x", in: 9, exists: true)
        lookahead.keepListing(["a"], of: directory, caller: root, askedAt: start, generation: 0, now: at(5))
        #expect(lookahead.listings.isEmpty)
        // The directory is not listed again within the lifetime, however its lookups go.
        for index in 0..<4 { lookahead.noteAbsent(in: directory, caller: root, now: at(10 + index)) }
        #expect(asks(plan(&lookahead, "b", at: 20)))
        #expect(plan(&lookahead, "c", at: 1010) == .list(generation: lookahead.generation))
    }

    @Test func aDirectoryTooLargeToListIsLeftAloneForAWhile() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<3 { lookahead.noteAbsent(in: directory, caller: root, now: at(index)) }
        #expect(plan(&lookahead, "x", at: 3) == .list(generation: 0))
        lookahead.keepListing(nil, of: directory, caller: root, askedAt: at(3), generation: 0, now: at(4))
        for index in 5..<9 { lookahead.noteAbsent(in: directory, caller: root, now: at(index)) }
        #expect(asks(plan(&lookahead, "y", at: 10)))
        let afterQuiet = Int(DirectoryLookahead.quietPeriod.components.seconds) * 1000 + 10
        for index in 0..<3 { lookahead.noteAbsent(in: directory, caller: root, now: at(afterQuiet + index)) }
        #expect(plan(&lookahead, "z", at: afterQuiet + 3) == .list(generation: 0))
    }

    @Test func aDirectoryThisClientMadeIsEmptyAsMadeAndListingsAreFew() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<(DirectoryLookahead.listingDirectoryLimit + 4) {
            lookahead.keepEmptyListing(of: UInt64(100 + index), caller: root, askedAt: at(index))
        }
        #expect(lookahead.listings.count == DirectoryLookahead.listingDirectoryLimit)
        #expect(lookahead.listings[100] == nil, "the oldest went first")
        let newest = UInt64(100 + DirectoryLookahead.listingDirectoryLimit + 3)
        #expect(plan(&lookahead, "anything", at: 30, in: newest) == .absent)
    }
}
