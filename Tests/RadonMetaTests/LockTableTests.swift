import Foundation
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

@Suite("Lock table: POSIX and flock rules as Linux keeps them")
struct LockTableTests {
    static let a = LockOwner(session: 1, owner: 10)
    static let b = LockOwner(session: 2, owner: 10)
    static let c = LockOwner(session: 2, owner: 11)

    static func range(_ start: UInt64, _ end: UInt64) -> LockRange { LockRange(start: start, end: end) }

    /// One owner's POSIX locks on inode 1 as (mode, start, end) triples.
    static func held(_ table: LockTable, _ owner: LockOwner = a) -> [String] {
        table.locks(on: 1, kind: .posix).filter { $0.owner == owner }.map { "\($0.mode) \($0.range)" }
    }

    @Test func anOwnersLocksSplitMergeUpgradeAndDowngradeAsOnLinux() {
        var table = LockTable()
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .shared, range: Self.range(0, 99), pid: 1) == nil)
        // A write lock in the middle splits the read lock in three.
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .exclusive, range: Self.range(40, 59), pid: 1) == nil)
        #expect(Self.held(table) == ["shared 0...39", "exclusive 40...59", "shared 60...99"])
        // Downgrading the middle merges all three back into one read lock.
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .shared, range: Self.range(40, 59), pid: 1) == nil)
        #expect(Self.held(table) == ["shared 0...99"])
        // An adjacent lock of the same mode merges; of another mode it stays apart.
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .shared, range: Self.range(100, 109), pid: 1) == nil)
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .exclusive, range: Self.range(110, .max), pid: 1) == nil)
        #expect(Self.held(table) == ["shared 0...109", "exclusive 110...EOF"])
        // Unlocking a hole splits; unlocking everything leaves nothing behind.
        table.unlock(1, kind: .posix, owner: Self.a, range: Self.range(10, 19))
        #expect(Self.held(table) == ["shared 0...9", "shared 20...109", "exclusive 110...EOF"])
        table.unlock(1, kind: .posix, owner: Self.a, range: .wholeFile)
        #expect(table.isEmpty)
    }

    @Test func readLocksOfTwoOwnersCoexistAndAWriteLockConflictsWithThem() {
        var table = LockTable()
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .shared, range: Self.range(0, 9), pid: 100) == nil)
        #expect(table.lock(1, kind: .posix, owner: Self.b, mode: .shared, range: Self.range(5, 14), pid: 200) == nil)
        let conflict = table.lock(1, kind: .posix, owner: Self.c, mode: .exclusive, range: Self.range(8, 8), pid: 300)
        #expect(conflict?.owner == Self.a && conflict?.pid == 100, "the first conflict is the lowest start")
        // An upgrade blocked by another reader keeps the owner's read lock.
        #expect(table.lock(1, kind: .posix, owner: Self.a, mode: .exclusive, range: Self.range(0, 9), pid: 100)?.owner == Self.b)
        #expect(Self.held(table) == ["shared 0...9"])
        // Non-overlapping write locks of two owners are both granted.
        #expect(table.lock(1, kind: .posix, owner: Self.c, mode: .exclusive, range: Self.range(15, 20), pid: 300) == nil)
        #expect(table.firstConflict(on: 1, kind: .posix, owner: Self.a, mode: .shared, range: Self.range(20, .max))?.range == Self.range(15, 20))
        #expect(table.firstConflict(on: 1, kind: .posix, owner: Self.c, mode: .exclusive, range: Self.range(15, 20)) == nil, "an owner never conflicts with itself")
    }

    @Test func flockAndPosixLocksLiveInSeparateNamespaces() {
        var table = LockTable()
        #expect(table.lock(1, kind: .flock, owner: Self.a, mode: .exclusive, range: .wholeFile, pid: 1) == nil)
        #expect(table.lock(1, kind: .posix, owner: Self.b, mode: .exclusive, range: .wholeFile, pid: 2) == nil)
        #expect(table.lock(1, kind: .flock, owner: Self.b, mode: .shared, range: .wholeFile, pid: 2)?.owner == Self.a)
        table.releaseAll(1, owner: Self.a, kinds: [.posix])
        #expect(table.locks(on: 1, kind: .flock).count == 1, "releasing POSIX locks leaves flock locks")
        table.releaseAll(1, owner: Self.a, kinds: [.flock])
        #expect(table.lock(1, kind: .flock, owner: Self.b, mode: .shared, range: .wholeFile, pid: 2) == nil)
    }

    @Test func aFailedFlockConversionHasLostTheOldLock() {
        var table = LockTable()
        #expect(table.lock(1, kind: .flock, owner: Self.a, mode: .shared, range: .wholeFile, pid: 1) == nil)
        #expect(table.lock(1, kind: .flock, owner: Self.b, mode: .shared, range: .wholeFile, pid: 2) == nil)
        #expect(table.lock(1, kind: .flock, owner: Self.a, mode: .exclusive, range: .wholeFile, pid: 1)?.owner == Self.b)
        #expect(table.locks(on: 1, kind: .flock).map(\.owner) == [Self.b], "flock(2): the old lock is removed first")
    }

    @Test func aSessionsLocksGoOnEveryInode() {
        var table = LockTable()
        _ = table.lock(1, kind: .posix, owner: Self.b, mode: .exclusive, range: Self.range(0, 0), pid: 1)
        _ = table.lock(2, kind: .flock, owner: Self.c, mode: .shared, range: .wholeFile, pid: 1)
        _ = table.lock(3, kind: .posix, owner: Self.a, mode: .shared, range: .wholeFile, pid: 1)
        #expect(table.releaseAll(session: 2) == [1, 2])
        #expect(table.locks(on: 3, kind: .posix).map(\.owner) == [Self.a])
        #expect(table.releaseAll(owner: Self.a) == [3])
        #expect(table.isEmpty)
    }

    /// Random operations against a model that keeps one mode per byte (bytes 0..<n, and byte n
    /// standing for every offset from n to the end of file): the table must keep exactly the
    /// model's bytes, as the fewest locks (maximal runs of one mode: Linux's merged form),
    /// refuse exactly when the model sees another owner's incompatible byte, and report the
    /// first conflict. Replay a failure with RADONFS_LOCK_SEED=<seed>.
    @Test func randomOperationsMatchAByteModel() {
        let seed = ProcessInfo.processInfo.environment["RADONFS_LOCK_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("lock table model seed: \(seed) (RADONFS_LOCK_SEED=\(seed) replays it)")
        var random = SeededGenerator(seed: seed)
        var model = LockModel()
        var table = LockTable()
        let owners = [LockOwner(session: 1, owner: 1), LockOwner(session: 1, owner: 2), LockOwner(session: 2, owner: 1), LockOwner(session: 3, owner: 7)]
        for step in 0..<20_000 {
            let inode = UInt64(random.next(2) + 1)
            let owner = owners[random.next(owners.count)]
            let range = model.randomRange(&random)
            let mode: FileLockMode = random.next(2) == 0 ? .shared : .exclusive
            let choice = random.next(100)
            let what: String
            switch choice {
            case 0..<45:
                what = "posix \(mode) \(range) by \(owner)"
                let conflict = table.lock(inode, kind: .posix, owner: owner, mode: mode, range: range, pid: Int32(step))
                let expected = model.firstConflict(inode, kind: .posix, owner: owner, mode: mode, range: range)
                #expect(conflict.map { [$0.owner, $0.range, $0.mode] as [AnyHashable] } == expected.map { [$0.owner, $0.range, $0.mode] as [AnyHashable] }, "step \(step) \(what), seed \(seed)")
                if expected == nil { model.set(inode, kind: .posix, owner: owner, mode: mode, range: range) }
            case 45..<65:
                what = "posix unlock \(range) by \(owner)"
                table.unlock(inode, kind: .posix, owner: owner, range: range)
                model.set(inode, kind: .posix, owner: owner, mode: nil, range: range)
            case 65..<75:
                what = "flock \(mode) by \(owner)"
                let conflict = table.lock(inode, kind: .flock, owner: owner, mode: mode, range: .wholeFile, pid: Int32(step))
                let holds = model.flock[inode]?[owner]
                if holds != mode { model.flock[inode]?[owner] = nil }
                let expected = holds == mode ? nil : model.firstConflict(inode, kind: .flock, owner: owner, mode: mode, range: .wholeFile)
                #expect(conflict?.owner == expected?.owner, "step \(step) \(what), seed \(seed)")
                if expected == nil { model.flock[inode, default: [:]][owner] = mode }
            case 75..<80:
                what = "flock unlock by \(owner)"
                table.unlock(inode, kind: .flock, owner: owner)
                model.flock[inode]?[owner] = nil
            case 80..<88:
                what = "test \(mode) \(range) by \(owner)"
                let conflict = table.firstConflict(on: inode, kind: .posix, owner: owner, mode: mode, range: range)
                let expected = model.firstConflict(inode, kind: .posix, owner: owner, mode: mode, range: range)
                #expect(conflict?.owner == expected?.owner && conflict?.range == expected?.range, "step \(step) \(what), seed \(seed)")
            case 88..<94:
                what = "close by \(owner)"
                table.releaseAll(inode, owner: owner, kinds: [.posix])
                model.set(inode, kind: .posix, owner: owner, mode: nil, range: .wholeFile)
            case 94..<97:
                what = "release owner \(owner)"
                table.releaseAll(owner: owner)
                for inode in 1...2 as ClosedRange<UInt64> {
                    model.set(inode, kind: .posix, owner: owner, mode: nil, range: .wholeFile)
                    model.flock[inode]?[owner] = nil
                }
            default:
                what = "end session \(owner.session)"
                table.releaseAll(session: owner.session)
                for inode in 1...2 as ClosedRange<UInt64> {
                    for other in owners where other.session == owner.session {
                        model.set(inode, kind: .posix, owner: other, mode: nil, range: .wholeFile)
                        model.flock[inode]?[other] = nil
                    }
                }
            }
            for inode in 1...2 as ClosedRange<UInt64> {
                let posix = table.locks(on: inode, kind: .posix).map { Triple(owner: $0.owner, mode: $0.mode, range: $0.range) }
                #expect(posix == model.canonicalLocks(inode), "step \(step) after \(what): table and model differ on inode \(inode), seed \(seed)")
                let flock = table.locks(on: inode, kind: .flock).map { Triple(owner: $0.owner, mode: $0.mode, range: $0.range) }
                #expect(flock == model.flockLocks(inode), "step \(step) after \(what): flock locks differ on inode \(inode), seed \(seed)")
                if posix != model.canonicalLocks(inode) || flock != model.flockLocks(inode) { return }
            }
        }
    }
}

struct Triple: Hashable {
    var owner: LockOwner
    var mode: FileLockMode
    var range: LockRange
}

/// The model: a mode per byte and owner (positions 0..<n are bytes; position n is every offset
/// from n up), and one flock mode per owner.
struct LockModel {
    static let n = 12
    var bytes: [UInt64: [LockOwner: [FileLockMode?]]] = [:]
    var flock: [UInt64: [LockOwner: FileLockMode]] = [:]

    func randomRange(_ random: inout SeededGenerator) -> LockRange {
        let start = UInt64(random.next(Self.n + 1))
        if start == UInt64(Self.n) || random.next(4) == 0 { return LockRange(start: start, end: .max) }
        return LockRange(start: start, end: start + UInt64(random.next(Self.n - Int(start))))
    }

    static func positions(_ range: LockRange) -> ClosedRange<Int> {
        Int(range.start)...(range.end == .max ? n : Int(range.end))
    }

    mutating func set(_ inode: UInt64, kind: FileLockKind, owner: LockOwner, mode: FileLockMode?, range: LockRange) {
        var mine = bytes[inode]?[owner] ?? Array(repeating: nil, count: Self.n + 1)
        for position in Self.positions(range) { mine[position] = mode }
        bytes[inode, default: [:]][owner] = mine.allSatisfy { $0 == nil } ? nil : mine
    }

    /// Maximal runs of one mode per owner, ordered by start then owner.
    func canonicalLocks(_ inode: UInt64) -> [Triple] {
        var locks: [Triple] = []
        for (owner, mine) in bytes[inode] ?? [:] {
            var position = 0
            while position <= Self.n {
                guard let mode = mine[position] else { position += 1; continue }
                var last = position
                while last + 1 <= Self.n, mine[last + 1] == mode { last += 1 }
                let end = last == Self.n ? UInt64.max : UInt64(last)
                locks.append(Triple(owner: owner, mode: mode, range: LockRange(start: UInt64(position), end: end)))
                position = last + 1
            }
        }
        return locks.sorted { ($0.range.start, $0.owner) < ($1.range.start, $1.owner) }
    }

    func flockLocks(_ inode: UInt64) -> [Triple] {
        (flock[inode] ?? [:]).map { Triple(owner: $0.key, mode: $0.value, range: .wholeFile) }
            .sorted { $0.owner < $1.owner }
    }

    func firstConflict(_ inode: UInt64, kind: FileLockKind, owner: LockOwner, mode: FileLockMode, range: LockRange) -> Triple? {
        let candidates = kind == .posix ? canonicalLocks(inode) : flockLocks(inode)
        return candidates.first { $0.owner != owner && $0.range.overlaps(range) && !($0.mode == .shared && mode == .shared) }
    }
}
