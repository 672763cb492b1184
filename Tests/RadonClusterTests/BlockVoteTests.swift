import NIOCore
import RadonClient
import RadonCodec
import RadonTestSupport
import Testing

/// The read decision rules, without daemons: 4+2, acknowledged writes on at least 5 nodes.
struct BlockVoteTests {
    func vote(_ answers: [Int: FragmentAnswer]) -> BlockVote {
        var vote = BlockVote(fragmentCount: 6, requiredCount: 4)
        for (index, answer) in answers { vote.record(answer, forFragment: index) }
        return vote
    }

    func present(_ version: UInt64) -> FragmentAnswer {
        .present(version: version, effectiveLength: 10, bytes: ByteBuffer(bytes: [UInt8(version)]), checksum: CRC32C.checksum([UInt8(version)]))
    }

    @Test func decodesWhenTheFirstKAgree() {
        guard case .decode(let version, _, let fragments) = vote([0: present(7), 1: present(7), 2: present(7), 3: present(7)]).verdict() else {
            Issue.record("expected decode"); return
        }
        #expect(version == 7)
        #expect(fragments.map(\.index) == [0, 1, 2, 3])
    }

    @Test func asksMoreWhenAFragmentIsCorruptOrMissing() {
        guard case .needMoreAnswers = vote([0: present(7), 1: .corrupt, 2: present(7), 3: present(7)]).verdict() else {
            Issue.record("expected needMoreAnswers"); return
        }
    }

    @Test func neverReturnsAnOlderVersionWhileANewerMayHide() {
        // 3 nodes have v9, 1 has v7 (missed the write), 2 are down: v9 may be acknowledged (3 + 2 >= 5).
        let verdict = vote([0: present(9), 1: present(9), 2: present(9), 3: present(7), 4: .failed("down"), 5: .failed("down")]).verdict()
        guard case .unreadable = verdict else { Issue.record("expected unreadable, got \(verdict)"); return }
    }

    @Test func ignoresAFailedWriteSeenOnTooFewNodes() {
        // v9 reached only 2 nodes (never acknowledged); v7 is on the other 4.
        let verdict = vote([0: present(9), 1: present(9), 2: present(7), 3: present(7), 4: present(7), 5: present(7)]).verdict()
        guard case .decode(let version, _, _) = verdict else { Issue.record("expected decode, got \(verdict)"); return }
        #expect(version == 7)
    }

    @Test func holeOnlyWhenNoAcknowledgedWriteCanHide() {
        guard case .hole = vote([0: .missing, 1: .missing, 2: .missing, 3: .missing]).verdict() else {
            Issue.record("four missing of six: a hole"); return
        }
        // One node says missing, five are silent: an acknowledged write could be on those five.
        let verdict = vote([0: .missing, 1: .failed("down"), 2: .failed("down"), 3: .failed("down"), 4: .failed("down"), 5: .failed("down")]).verdict()
        guard case .unreadable = verdict else { Issue.record("five silent nodes could hold the block: \(verdict)"); return }
    }

    @Test func staleFragmentsAreTheOnesToRepair() {
        let vote = vote([0: present(9), 1: .corrupt, 2: present(9), 3: present(9), 4: present(3), 5: .failed("down")])
        #expect(vote.staleFragments(comparedTo: 9) == [1, 4])
    }

    @Test func previousVersionsDecodeAFailedOverwritesOldBlock() {
        // v9 reached 3 nodes (failed); they kept v7 as their previous version.
        var ballot = vote([0: present(9), 1: present(9), 2: present(9), 3: present(7), 4: present(7), 5: present(7)])
        guard case .unreadable = ballot.verdict() else { Issue.record("neither version has 4 current fragments"); return }
        for index in 0..<3 { ballot.recordPrevious(present(7), forFragment: index) }
        for index in 3..<6 { ballot.recordPrevious(.missing, forFragment: index) }
        guard case .decode(let version, _, let fragments) = ballot.verdict() else { Issue.record("v7 has 6 fragments"); return }
        #expect(version == 7)
        #expect(fragments.count == 4 && fragments.allSatisfy { $0.bytes == ByteBuffer(bytes: [7]) })
        #expect(ballot.newestVersionSeen == 9)
    }

    @Test func previousVersionsNeverHideANewerAcknowledgedOne() {
        // v9 on 3 nodes, 2 silent (v9 may be on them: acknowledged); v7 kept as previous.
        var ballot = vote([0: present(9), 1: present(9), 2: present(9), 3: present(7), 4: .failed("down"), 5: .failed("down")])
        for index in 0..<3 { ballot.recordPrevious(present(7), forFragment: index) }
        guard case .unreadable = ballot.verdict() else { Issue.record("v9 may be acknowledged: no v7"); return }
    }
}
