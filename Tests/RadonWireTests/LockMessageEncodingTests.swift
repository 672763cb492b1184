import Glibc
import NIOCore
import RadonWire
import Testing

/// The lock messages (opcodes 0x73-0x76) round trip, and bad ranges, modes and kinds are
/// refused by the decoder (a bad range as EINVAL, as fcntl answers it).
@Suite struct LockMessageEncodingTests {
    @Test func everyLockMessageRoundTrips() throws {
        for mode in [FileLockMode.shared, .exclusive, nil] {
            for kind in FileLockKind.allCases {
                let request = SetLockRequest(session: .max, inode: 42, owner: 0xDEAD_BEEF_F00D, kind: kind, mode: mode,
                                             range: LockRange(start: 7, end: .max), pid: -1, wait: mode != nil, waitToken: 99)
                #expect(try SetLockRequest(decoding: request.encoded()) == request)
            }
        }
        #expect(try SetLockReply(decoding: SetLockReply(granted: true).encoded()) == SetLockReply(granted: true))
        let test = TestLockRequest(session: 1, inode: 2, owner: 3, mode: .exclusive, range: LockRange(start: 0, end: 0))
        #expect(try TestLockRequest(decoding: test.encoded()) == test)
        for conflict in [nil, LockConflict(mode: .shared, range: LockRange(start: 10, end: 19), pid: 4242)] {
            #expect(try TestLockReply(decoding: TestLockReply(conflict: conflict).encoded()) == TestLockReply(conflict: conflict))
        }
        for kinds in [Set<FileLockKind>(), [.posix], [.flock], [.posix, .flock]] {
            let release = ReleaseLocksRequest(session: 5, inode: 6, owner: 7, kinds: kinds)
            #expect(try ReleaseLocksRequest(decoding: release.encoded()) == release)
        }
        let cancel = CancelLockWaitRequest(session: 8, waitToken: 9)
        #expect(try CancelLockWaitRequest(decoding: cancel.encoded()) == cancel)
    }

    @Test func badRangesModesAndKindsAreRefused() throws {
        var backwards = SetLockRequest(session: 1, inode: 1, owner: 1, kind: .posix, mode: .shared).encoded()
        backwards.setInteger(UInt64(10), at: 26)  // start, after session, inode, owner, kind, type
        backwards.setInteger(UInt64(9), at: 34)   // end
        #expect { try SetLockRequest(decoding: backwards) } throws: { ($0 as? WireError)?.errno == EINVAL }
        var badType = SetLockRequest(session: 1, inode: 1, owner: 1, kind: .posix, mode: .shared).encoded()
        badType.setInteger(UInt8(3), at: 25)
        #expect(throws: WireError.self) { try SetLockRequest(decoding: badType) }
        var badKind = SetLockRequest(session: 1, inode: 1, owner: 1, kind: .posix, mode: .shared).encoded()
        badKind.setInteger(UInt8(2), at: 24)
        #expect(throws: WireError.self) { try SetLockRequest(decoding: badKind) }
        var badMask = ReleaseLocksRequest(session: 1, inode: 1, owner: 1, kinds: [.posix]).encoded()
        badMask.setInteger(UInt8(4), at: 24)
        #expect(throws: WireError.self) { try ReleaseLocksRequest(decoding: badMask) }
        let encoded = SetLockRequest(session: 1, inode: 1, owner: 1, kind: .flock, mode: nil).encoded()
        for length in 0..<encoded.readableBytes {
            #expect(throws: WireError.self) { try SetLockRequest(decoding: encoded.getSlice(at: 0, length: length)!) }
        }
    }

    @Test func theLockOpcodesSitInTheirRange() {
        #expect([MetaOpcode.setLock, .testLock, .releaseLocks, .cancelLockWait].map(\.rawValue) == [0x73, 0x74, 0x75, 0x76])
    }
}
