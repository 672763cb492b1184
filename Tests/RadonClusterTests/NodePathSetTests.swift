@testable import RadonClient
import RadonTestSupport
import Testing

/// The path choice of a multi-path storage node, as a value.
@Suite struct NodePathSetTests {
    let addresses = (1...3).map { WireAddress(host: "10.215.\($0).2", port: 7500) }

    @Test("equally loaded paths take requests in turn")
    func roundRobin() {
        var set = NodePathSet(addresses)
        var chosen: [Int] = []
        for _ in 0..<6 {
            let index = set.choose()!
            chosen.append(index)
            set.finish(index)
        }
        #expect(chosen == [0, 1, 2, 0, 1, 2])
    }

    @Test("the path with the fewest requests outstanding goes first")
    func leastOutstanding() {
        var set = NodePathSet(addresses)
        let first = set.choose()!, second = set.choose()!
        set.finish(first)
        // Path 2 has none, path 0 none again, path 1 one: 2 comes next in the turn, then 0.
        let third = set.choose(), fourth = set.choose()
        #expect(third == 2)
        #expect(fourth == first)
        #expect(set.paths[second].outstanding == 1)
    }

    @Test("a path marked down gets no request until it is marked up, and only its first marking asks for a probe")
    func downAndUp() {
        var set = NodePathSet(addresses)
        let firstMarking = set.markDown(1), secondMarking = set.markDown(1)
        #expect(firstMarking)
        #expect(!secondMarking)
        for _ in 0..<10 {
            let index = set.choose()!
            #expect(index != 1)
            set.finish(index)
        }
        #expect(set.liveCount == 2)
        set.markUp(1)
        let picks = (0..<3).map { _ in set.choose()! }
        #expect(picks.contains(1))
    }

    @Test("an excluded path is never chosen; with no live path left the others are still tried; all excluded gives nil")
    func exclusions() {
        var set = NodePathSet(addresses)
        let onlyLeft = set.choose(excluding: [0, 1])
        #expect(onlyLeft == 2)
        _ = set.markDown(0)
        _ = set.markDown(1)
        _ = set.markDown(2)
        let amongDown = set.choose(excluding: [2]), none = set.choose(excluding: [0, 1, 2])
        #expect(amongDown != nil)
        #expect(none == nil)
        #expect(!set.hasOtherLivePath(than: []))
        set.markUp(2)
        #expect(set.hasOtherLivePath(than: [0]))
        #expect(!set.hasOtherLivePath(than: [2]))
    }

    @Test("finishing never takes the outstanding count below zero")
    func finishFloor() {
        var set = NodePathSet(addresses)
        set.finish(0)
        #expect(set.paths[0].outstanding == 0)
    }

    @Test("the silent delay is the base for a fast node, four times a slow node's usual answer time, never past the ceiling")
    func silentDelayFollowsTheNode() {
        var set = NodePathSet(addresses)
        #expect(set.silentDelay(base: .milliseconds(400)) == .milliseconds(400))
        for _ in 0..<20 { set.recordAnswer(after: .milliseconds(2)) }
        #expect(set.silentDelay(base: .milliseconds(400)) == .milliseconds(400))
        // A loaded node answering in 150 ms is waited for 600 ms before a duplicate goes out.
        for _ in 0..<60 { set.recordAnswer(after: .milliseconds(150)) }
        let delay = set.silentDelay(base: .milliseconds(400))
        #expect(delay > .milliseconds(590) && delay <= .milliseconds(600), "\(delay)")
        // However slow, a dead link is still left within the ceiling.
        for _ in 0..<60 { set.recordAnswer(after: .seconds(5)) }
        #expect(set.silentDelay(base: .milliseconds(400)) == .seconds(1))
        #expect(set.silentDelay(base: .milliseconds(1500)) == .milliseconds(1500), "a base above the ceiling stays")
        // One slow answer moves the average by an eighth only.
        var steady = NodePathSet(addresses)
        for _ in 0..<20 { steady.recordAnswer(after: .milliseconds(10)) }
        steady.recordAnswer(after: .seconds(2))
        #expect(steady.silentDelay(base: .milliseconds(400)) == .seconds(1))
        #expect((steady.smoothedLatency ?? .zero) < .milliseconds(300))
    }
}
