import Foundation
import Glibc
import Synchronization
import RadonMeta
import RadonWire
import Testing

@Suite("Lock manager: waits, wake-ups, cancels, deadlocks and lapsed sessions")
struct LockManagerTests {
    static func request(_ session: UInt64, _ mode: FileLockMode?, _ start: UInt64 = 0, _ end: UInt64 = .max,
                        kind: FileLockKind = .posix, wait: Bool = false, token: UInt64 = 0, inode: UInt64 = 1) -> SetLockRequest {
        SetLockRequest(session: session, inode: inode, owner: 1, kind: kind, mode: mode, range: LockRange(start: start, end: end),
                       pid: Int32(session), wait: wait, waitToken: token)
    }

    static func errno(of body: () async throws -> Bool) async -> Int32? {
        do {
            _ = try await body()
            return nil
        } catch let error as FileSystemError {
            return error.errno
        } catch let error as WireError {
            return error.errno ?? error.status.errno
        } catch {
            return -1
        }
    }

    @Test func aConflictWithoutWaitIsEAGAIN() async throws {
        let locks = LockManager()
        #expect(try await locks.set(Self.request(1, .exclusive, 0, 9)))
        #expect(await Self.errno { try await locks.set(Self.request(2, .shared, 9, 20)) } == EAGAIN)
        #expect(try await locks.set(Self.request(2, .shared, 10, 20)), "a range beside it is free")
        #expect(try await locks.test(TestLockRequest(session: 2, inode: 1, owner: 1, mode: .shared, range: .wholeFile)) == LockConflict(mode: .exclusive, range: LockRange(start: 0, end: 9), pid: 1))
    }

    @Test func waitersAreWokenInOrderWhenTheLockGoes() async throws {
        let locks = LockManager()
        #expect(try await locks.set(Self.request(1, .exclusive)))
        let order = OrderLog()
        let second = Task { try await locks.set(Self.request(2, .exclusive, wait: true, token: 1)).also { order.append(2) } }
        try await Task.sleep(for: .milliseconds(100))
        let third = Task { try await locks.set(Self.request(3, .exclusive, wait: true, token: 1)).also { order.append(3) } }
        try await Task.sleep(for: .milliseconds(100))
        #expect(order.values.isEmpty, "nobody is granted while the lock is held")
        let started = ContinuousClock.now
        #expect(try await locks.set(Self.request(1, nil)))
        #expect(try await second.value)
        #expect(ContinuousClock.now - started < .seconds(1), "the waiter is woken by the unlock, not by a poll")
        try await Task.sleep(for: .milliseconds(100))
        #expect(order.values == [2], "the third waits for the second")
        #expect(try await locks.set(Self.request(2, nil)))
        #expect(try await third.value)
        #expect(order.values == [2, 3])
    }

    @Test func aWaitEndsStillBlockedAfterTheMaximumWait() async throws {
        let locks = LockManager(maximumWait: .milliseconds(200))
        #expect(try await locks.set(Self.request(1, .exclusive, kind: .flock)))
        let started = ContinuousClock.now
        #expect(try await locks.set(Self.request(2, .shared, kind: .flock, wait: true, token: 5)) == false)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(await Self.errno { try await locks.set(Self.request(2, .shared, kind: .flock)) } == EAGAIN, "the timed-out waiter holds nothing")
    }

    @Test func aCancelledWaitIsEINTRAndTakesNothing() async throws {
        let locks = LockManager()
        #expect(try await locks.set(Self.request(1, .exclusive)))
        let waiting = Task { await Self.errno { try await locks.set(Self.request(2, .exclusive, wait: true, token: 9)) } }
        try await Task.sleep(for: .milliseconds(100))
        await locks.cancelWait(CancelLockWaitRequest(session: 2, waitToken: 9))
        #expect(await waiting.value == EINTR)
        #expect(try await locks.set(Self.request(1, nil)))
        #expect(try await locks.set(Self.request(3, .exclusive)), "the cancelled waiter did not take the lock on release")
    }

    @Test func aWaitThatClosesACycleIsEDEADLK() async throws {
        let locks = LockManager()
        #expect(try await locks.set(Self.request(1, .exclusive, 0, 0)))
        #expect(try await locks.set(Self.request(2, .exclusive, 1, 1)))
        let first = Task { try await locks.set(Self.request(1, .exclusive, 1, 1, wait: true, token: 1)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(await Self.errno { try await locks.set(Self.request(2, .exclusive, 0, 0, wait: true, token: 1)) } == EDEADLK)
        #expect(try await locks.set(Self.request(2, nil)))
        #expect(try await first.value)
    }

    @Test func anEndedSessionLosesItsLocksAndWaitsAndIsRefusedAfterwards() async throws {
        let locks = LockManager()
        #expect(try await locks.set(Self.request(1, .exclusive, inode: 1)))
        #expect(try await locks.set(Self.request(2, .exclusive, inode: 2)))
        let blocked = Task { await Self.errno { try await locks.set(Self.request(1, .exclusive, wait: true, token: 3, inode: 2)) } }
        let waiting = Task { try await locks.set(Self.request(3, .shared, wait: true, token: 3, inode: 1)) }
        try await Task.sleep(for: .milliseconds(100))
        await locks.endSession(1)
        #expect(await blocked.value == ESTALE, "the session's own wait ends")
        #expect(try await waiting.value, "its lock passes to the waiter")
        #expect(await Self.errno { try await locks.set(Self.request(1, .shared, inode: 3)) } == ESTALE, "a late request of the ended session takes nothing")
    }
}

/// Records the order waiters were granted in.
final class OrderLog: Sendable {
    private let log = Mutex<[Int]>([])
    func append(_ value: Int) { log.withLock { $0.append(value) } }
    var values: [Int] { log.withLock { $0 } }
}

extension Bool {
    func also(_ body: () -> Void) -> Bool {
        body()
        return self
    }
}

@Suite("File locks through the metadata service's wire")
struct LockWireTests {
    @Test func locksCrossTheWireWithTheirErrnos() async throws {
        try await withServiceFixture { fixture in
            let client = fixture.client
            let one = try await client.openSession(clientName: "one").session
            let two = try await client.openSession(clientName: "two").session
            #expect(try await client.setLock(SetLockRequest(session: one, inode: 5, owner: 1, kind: .posix, mode: .exclusive, range: LockRange(start: 0, end: 99), pid: 11)))
            await #expect { try await client.setLock(SetLockRequest(session: two, inode: 5, owner: 1, kind: .posix, mode: .shared, range: LockRange(start: 50, end: 50))) } throws: {
                ($0 as? FileSystemError)?.errno == EAGAIN
            }
            #expect(try await client.testLock(TestLockRequest(session: two, inode: 5, owner: 1, mode: .shared, range: .wholeFile)) == LockConflict(mode: .exclusive, range: LockRange(start: 0, end: 99), pid: 11))
            var backwards = SetLockRequest(session: one, inode: 5, owner: 1, kind: .posix, mode: .shared).encoded()
            backwards.setInteger(UInt64(10), at: 26)
            backwards.setInteger(UInt64(9), at: 34)
            await #expect { _ = try await fixture.connection.call(opcode: MetaOpcode.setLock.rawValue, payload: backwards) } throws: {
                ($0 as? WireError)?.errno == EINVAL
            }
            let waiting = Task { try await client.setLock(SetLockRequest(session: two, inode: 5, owner: 1, kind: .posix, mode: .shared, range: LockRange(start: 50, end: 50), wait: true, waitToken: 7)) }
            try await Task.sleep(for: .milliseconds(100))
            try await client.cancelLockWait(session: two, waitToken: 7)
            await #expect { try await waiting.value } throws: { ($0 as? FileSystemError)?.errno == EINTR }
            try await client.releaseLocks(session: one, inode: 5, owner: 1, kinds: [.posix])
            #expect(try await client.testLock(TestLockRequest(session: two, inode: 5, owner: 1, mode: .exclusive, range: .wholeFile)) == nil)
            await #expect { try await client.setLock(SetLockRequest(session: 12345, inode: 5, owner: 1, kind: .posix, mode: .shared)) } throws: {
                ($0 as? WireError)?.status == .sessionExpired
            }
        }
    }

    /// The registry's expiry hook reaches the locks: a session that ends (closed here; a lapse
    /// runs the same handlers) loses its locks and the waiter behind it is granted.
    @Test func anEndedSessionsLocksPassToItsWaiters() async throws {
        try await withServiceFixture { fixture in
            let client = fixture.client
            let sweeps = Task { await fixture.service.runSessionSweeps() }
            defer { sweeps.cancel() }
            try await Task.sleep(for: .milliseconds(100))
            let one = try await client.openSession(clientName: "one").session
            let two = try await client.openSession(clientName: "two").session
            #expect(try await client.setLock(SetLockRequest(session: one, inode: 9, owner: 1, kind: .flock, mode: .exclusive)))
            let waiting = Task { try await client.setLock(SetLockRequest(session: two, inode: 9, owner: 1, kind: .flock, mode: .exclusive, wait: true, waitToken: 1)) }
            try await Task.sleep(for: .milliseconds(100))
            try await client.closeSession(one)
            #expect(try await waiting.value)
            await #expect { try await client.setLock(SetLockRequest(session: one, inode: 10, owner: 1, kind: .flock, mode: .shared)) } throws: {
                ($0 as? WireError)?.status == .sessionExpired
            }
        }
    }
}
