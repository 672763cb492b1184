@testable import RadonClient
import RadonWire
import Testing

/// The client's scan detection and lookahead windows alone, on a clock the test moves.
@Suite("Directory lookahead")
struct DirectoryLookaheadTests {
    let directory: UInt64 = 7
    let root = MetaCaller.root
    let user = MetaCaller(uid: 1000, gid: 1000)
    let start = ContinuousClock.now

    func entries(_ range: Range<Int>) -> [DirectoryEntry] {
        range.map { index in
            let time = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)
            let attributes = InodeAttributes(
                inode: UInt64(100 + index), kind: .regular, permissions: 0o644, linkCount: 1, uid: 0, gid: 0, rdev: 0,
                size: UInt64(index), accessTime: time, modificationTime: time, changeTime: time, generation: 0)
            return DirectoryEntry(name: FileName("file-\(index)"), attributes: attributes, cookie: UInt64(index + 3))
        }
    }

    /// Plans a lookup at `start + milliseconds`.
    func plan(_ lookahead: inout DirectoryLookahead, _ name: String, at milliseconds: Int = 0,
              caller: MetaCaller? = nil, in parent: UInt64? = nil) -> DirectoryLookahead.Plan {
        lookahead.plan(parent: parent ?? directory, name: FileName(name), caller: caller ?? root, now: start + .milliseconds(milliseconds))
    }

    @Test func theThirdLookupInADirectoryAsksAheadAndTheWindowAnswersTheNext() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        #expect(plan(&lookahead, "file-0") == .ask(following: 0, generation: 0))
        #expect(plan(&lookahead, "file-1", at: 1) == .ask(following: 0, generation: 0))
        #expect(plan(&lookahead, "file-2", at: 2) == .ask(following: DirectoryLookahead.firstSize, generation: 0))
        lookahead.keep(entries(3..<67), in: directory, size: 64, caller: root, askedAt: start + .milliseconds(2), generation: 0)
        guard case let .answered(attributes, askedAt, trustedFor) = plan(&lookahead, "file-3", at: 102) else {
            Issue.record("file-3 should come from the window")
            return
        }
        #expect(attributes.inode == 103)
        #expect(trustedFor == .milliseconds(900), "what is left of the lifetime, not a fresh one")
        #expect(askedAt == start + .milliseconds(2))
    }

    @Test func lookupsInOtherDirectoriesOrSpreadOutAreNoScan() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<6 {
            #expect(plan(&lookahead, "file-\(index)", at: index, in: UInt64(10 + index)) == .ask(following: 0, generation: 0))
        }
        for index in 0..<6 {
            #expect(plan(&lookahead, "file-\(index)", at: 1500 * index) == .ask(following: 0, generation: 0))
        }
    }

    @Test func aWindowAnswersNothingAfterItsLifetimeNorForAnotherCaller() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        guard case .ask = plan(&lookahead, "file-5", at: 10, caller: user) else {
            Issue.record("another caller was answered from root's window")
            return
        }
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        guard case .ask = plan(&lookahead, "file-6", at: 1000) else {
            Issue.record("a window answered at the end of its lifetime")
            return
        }
    }

    @Test func aNameNotInTheWindowGoesToTheServiceAndTheScanGoesOn() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        for index in 0..<64 {
            guard case .answered = plan(&lookahead, "file-\(index)", at: 1) else {
                Issue.record("file-\(index) should come from the window")
                return
            }
        }
        // Every entry served: the next window is twice as large, asked at once.
        #expect(plan(&lookahead, "file-64", at: 2) == .ask(following: 128, generation: 0))
    }

    @Test func aWindowThatServedNothingSilencesTheDirectoryForAWhile() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        #expect(plan(&lookahead, "elsewhere-1", at: 1) == .ask(following: 0, generation: 0))
        for index in 2..<10 {
            #expect(plan(&lookahead, "elsewhere-\(index)", at: index) == .ask(following: 0, generation: 0))
        }
        let afterQuiet = Int(DirectoryLookahead.quietPeriod.components.seconds) * 1000 + 10
        #expect(plan(&lookahead, "a", at: afterQuiet) == .ask(following: 0, generation: 0))
        #expect(plan(&lookahead, "b", at: afterQuiet + 1) == .ask(following: 0, generation: 0))
        #expect(plan(&lookahead, "c", at: afterQuiet + 2) == .ask(following: 64, generation: 0))
    }

    @Test func aLocalChangeDropsTheWindowsAndAnyAskedBeforeIt() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        lookahead.forgetAll()
        #expect(plan(&lookahead, "file-1", at: 1) == .ask(following: 0, generation: 1))
        // An answer asked before the change arrives after it: not kept.
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        #expect(lookahead.windows.isEmpty)
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 1)
        #expect(lookahead.windows.count == 1)
    }

    @Test func aChangeToOneNameOrInodeForgetsItAloneAndEveryWindowAskedBefore() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        lookahead.keep(entries(0..<64), in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        // A hard link: inode 105 is also "file-5" in another directory's window.
        lookahead.keep(entries(5..<6), in: 8, size: 64, caller: root, askedAt: start, generation: 0)
        #expect(lookahead.countedEntries == 65)
        #expect(lookahead.inode(named: "file-3", in: directory) == 103)
        lookahead.forget("file-3", in: directory)
        lookahead.forget(inode: 105)
        #expect(lookahead.countedEntries == 62)
        #expect(lookahead.windows[directory]?.entries["file-5"] == nil, "the hard link's other name went too")
        #expect(lookahead.windows[directory]?.entries["file-6"] != nil)
        guard case .answered = plan(&lookahead, "file-4", at: 1) else {
            Issue.record("a name nothing changed was forgotten")
            return
        }
        // (A name a window does not hold ends that window: the first miss in each directory.)
        for (name, parent) in [("file-3", directory), ("file-5", UInt64(8))] {
            guard case .ask = plan(&lookahead, name, at: 2, in: parent) else {
                Issue.record("\(name) in \(parent) was answered after this client changed it")
                return
            }
        }
        // What was asked before the changes is not kept.
        lookahead.keep(entries(0..<64), in: 9, size: 64, caller: root, askedAt: start, generation: 0)
        #expect(lookahead.windows[9] == nil)
        // Replacing and dropping windows keeps the count of what they hold.
        lookahead.keep(entries(0..<10), in: directory, size: 64, caller: root, askedAt: start, generation: lookahead.generation)
        #expect(lookahead.countedEntries == 10)
        lookahead.forgetAll()
        #expect(lookahead.countedEntries == 0 && lookahead.windows.isEmpty)
    }

    @Test func anUnlinkOfTheNameJustLookedUpKeepsTheWindowAndAnUnknownOneEndsOtherScans() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        let lookedUp = entries(0..<1)[0]
        lookahead.keep(entries(1..<64), after: lookedUp, in: directory, size: 64, caller: root, askedAt: start, generation: 0)
        #expect(lookahead.inode(named: "file-0", in: directory) == 100)
        lookahead.forgetRemoval(of: "file-0", in: directory)
        guard case .answered = plan(&lookahead, "file-1", at: 1) else {
            Issue.record("the unlink of the looked-up name dropped the window")
            return
        }
        // A name no window holds, in another directory: every window goes, and the scan starts
        // again (plain lookups).
        lookahead.forgetRemoval(of: "elsewhere", in: 8)
        #expect(lookahead.windows.isEmpty)
        #expect(plan(&lookahead, "file-2", at: 2) == .ask(following: 0, generation: lookahead.generation))
        #expect(plan(&lookahead, "file-3", at: 3) == .ask(following: 0, generation: lookahead.generation))
        // Unlinking names no window holds one by one in a directory is a scan of it: the third
        // lookup asks ahead.
        var unlinking = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<2 {
            #expect(plan(&unlinking, "file-\(index)", at: index) == .ask(following: 0, generation: unlinking.generation))
            unlinking.forgetRemoval(of: FileName("file-\(index)"), in: directory)
        }
        #expect(plan(&unlinking, "file-2", at: 2) == .ask(following: DirectoryLookahead.firstSize, generation: unlinking.generation))
    }

    @Test func dotNamesAndAnOlderServerAreNeverAskedAhead() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for index in 0..<5 { #expect(plan(&lookahead, index % 2 == 0 ? "." : "..", at: index) == .ask(following: 0, generation: 0)) }
        lookahead.isUnsupported = true
        for index in 0..<5 { #expect(plan(&lookahead, "file-\(index)", at: index) == .ask(following: 0, generation: 0)) }
    }

    @Test func windowsAreBoundedInNumber() {
        var lookahead = DirectoryLookahead(lifetime: .seconds(1))
        for parent in 0..<(DirectoryLookahead.windowLimit + 5) {
            lookahead.keep(entries(0..<4), in: UInt64(parent), size: 4, caller: root, askedAt: start + .milliseconds(parent), generation: 0)
        }
        #expect(lookahead.windows.count == DirectoryLookahead.windowLimit)
        #expect(lookahead.windows[0] == nil, "the oldest went first")
    }
}
