import Foundation
import RadonClient
import RadonTestSupport
import Testing

/// Locks live in the metadata service's memory: after it restarts, a client takes its locks
/// again under its new session (those nobody else took meanwhile).
@Suite("Locks across a metadata service restart")
struct LockReclaimTests {
    @Test func heldLocksAreReclaimedUnderTheNewSession() async throws {
        try await TestCluster.with(blockSize: 64 << 10) { cluster in
            let holder = try await cluster.client()
            let other = try await cluster.client()
            let inode = try await holder.writeFile(parent: 1, name: "locked", bytes: [1, 2, 3]).inode
            try await holder.flock(inode, owner: 1, mode: .exclusive, pid: 100, wait: false)
            try await holder.setLock(inode, owner: 2, mode: .exclusive, range: LockRange(start: 0, end: 99), pid: 100, wait: false)
            // A hole in the middle: what is reclaimed is 0...39 and 60...99.
            try await holder.setLock(inode, owner: 2, mode: nil, range: LockRange(start: 40, end: 59), pid: 100, wait: false)

            try cluster.killMeta()
            try await Task.sleep(for: .seconds(1))
            try cluster.restart()

            // The holder's next renewal finds its session gone, opens a new one and reclaims.
            let deadline = ContinuousClock.now + .seconds(30)
            var conflict: LockConflict?
            while conflict == nil, ContinuousClock.now < deadline {
                conflict = try await other.getLock(inode, owner: 9, mode: .shared, range: LockRange(start: 0, end: 10))
                if conflict == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let reclaimed = try #require(conflict, "the POSIX lock was not reclaimed within 30 s")
            #expect(reclaimed.range == LockRange(start: 0, end: 39) && reclaimed.pid == 100)
            #expect(try await other.getLock(inode, owner: 9, mode: .exclusive, range: LockRange(start: 40, end: 59)) == nil)
            #expect(try await other.getLock(inode, owner: 9, mode: .shared, range: LockRange(start: 60, end: 60))?.range
                    == LockRange(start: 60, end: 99))
            // The flock lock is reclaimed in the same pass.
            try await Task.sleep(for: .milliseconds(500))
            await #expect(throws: FileSystemError.self) {
                try await other.flock(inode, owner: 9, mode: .exclusive, pid: 200, wait: false)
            }
            await holder.close()
            await other.close()
        }
    }
}
