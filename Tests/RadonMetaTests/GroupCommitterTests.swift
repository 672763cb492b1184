import Foundation
@testable import RadonMeta
import Synchronization
import Testing

/// The group commit on a real SQLite file: writers commit the queue themselves and hand the
/// turn on, so these check that every writer is answered, with its own outcome, and that
/// concurrent writers share batches.
@Suite(.timeLimit(.minutes(1))) struct GroupCommitterTests {
    /// A SQLite engine that counts its batches, can hold the first one back (so writers queue
    /// behind it) and can fail a chosen batch as a failed commit does: it throws after the
    /// operations ran, and nothing of it is committed.
    final class ObservedEngine: MetadataEngine {
        let base: SQLiteEngine
        let batches = Atomic<Int>(0)
        let holdFirstBatch: Duration
        let failingBatch: Int?

        init(path: String, holdFirstBatch: Duration = .zero, failingBatch: Int? = nil) throws {
            base = try SQLiteEngine(path: path)
            self.holdFirstBatch = holdFirstBatch
            self.failingBatch = failingBatch
        }

        func read<Value: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> Value) async throws -> Value {
            try await base.read(body)
        }

        func writeBatch(_ body: @escaping @Sendable (any SQLTransaction) throws -> Void) async throws {
            let number = batches.wrappingAdd(1, ordering: .relaxed).newValue
            if number == 1, holdFirstBatch > .zero { try await Task.sleep(for: holdFirstBatch) }
            try await base.writeBatch { db in
                try body(db)
                if number == self.failingBatch { throw CommitRefused() }
            }
        }

        func setFencingEpoch(_ epoch: Int64?) {}
        func shutdown() async {}
    }

    struct CommitRefused: Error {}
    struct OperationRefused: Error {}

    static func names(in engine: some MetadataEngine) async throws -> Set<String> {
        let rows = try await engine.read { db in try db.rows("SELECT name FROM committer_probe", []) }
        return Set(rows.map { $0[0] as String })
    }

    static func makeProbeTable(_ committer: GroupCommitter) async throws {
        _ = try await committer.write { db in try db.execute("CREATE TABLE committer_probe (name TEXT PRIMARY KEY)", []) }
    }

    @Test func concurrentWritersShareBatchesAndEachKeepsItsOwnOutcome() async throws {
        let directory = try TemporaryDirectory()
        let engine = try ObservedEngine(path: "\(directory.path)/meta.db", holdFirstBatch: .milliseconds(300))
        let committer = GroupCommitter(engine: engine)
        // The first batch, held 300 ms, is this one: every writer below queues behind it.
        let table = Task { try await Self.makeProbeTable(committer) }
        try await Task.sleep(for: .milliseconds(50))
        let lanes = 16, perLane = 40
        // Each lane's first operation queues behind the held batch, so all of them share the
        // second one; after that, batches form as the writers happen to meet.
        let firstBatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var firstBatch = 0
                    for index in 0..<perLane {
                        let name = "n-\(lane)-\(index)"
                        do {
                            let (echoed, batch) = try await committer.write { db in
                                try db.execute("INSERT INTO committer_probe (name) VALUES (?)", [name])
                                if index % 7 == 3 { throw OperationRefused() }
                                return (name, engine.batches.load(ordering: .relaxed))
                            }
                            #expect(echoed == name, "a writer gets its own result, not a batch-mate's")
                            #expect(index % 7 != 3)
                            if index == 0 { firstBatch = batch }
                        } catch is OperationRefused {
                            #expect(index % 7 == 3, "only the refused operations fail")
                        }
                    }
                    return firstBatch
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        try await table.value
        #expect(firstBatches == [2], "the \(lanes) writers queued behind the held commit share the next one, not \(firstBatches.sorted())")
        let stored = try await Self.names(in: engine)
        let expected = Set((0..<lanes).flatMap { lane in (0..<perLane).filter { $0 % 7 != 3 }.map { "n-\(lane)-\($0)" } })
        #expect(stored == expected, "every acknowledged write is stored and no refused one is")
    }

    @Test func aFailedCommitFailsItsWholeBatchAndTheNextBatchStillCommits() async throws {
        let directory = try TemporaryDirectory()
        // Batch 1 makes the table; batch 2 (held behind it) is refused at commit.
        let engine = try ObservedEngine(path: "\(directory.path)/meta.db", holdFirstBatch: .milliseconds(300), failingBatch: 2)
        let committer = GroupCommitter(engine: engine)
        let table = Task { try await Self.makeProbeTable(committer) }
        try await Task.sleep(for: .milliseconds(50))
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask {
                    do {
                        _ = try await committer.write { db in try db.execute("INSERT INTO committer_probe (name) VALUES (?)", ["queued-\(index)"]) }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        try await table.value
        #expect(outcomes.allSatisfy { !$0 }, "the six writers queued behind the first batch shared the refused one")
        #expect(try await Self.names(in: engine).isEmpty)
        _ = try await committer.write { db in try db.execute("INSERT INTO committer_probe (name) VALUES (?)", ["after"]) }
        #expect(try await Self.names(in: engine) == ["after"], "the turn was handed on: the committer keeps serving")
    }

    @Test func aLoneFailingOperationIsRolledBack() async throws {
        let directory = try TemporaryDirectory()
        let engine = try ObservedEngine(path: "\(directory.path)/meta.db")
        let committer = GroupCommitter(engine: engine)
        try await Self.makeProbeTable(committer)
        await #expect(throws: OperationRefused.self) {
            _ = try await committer.write { db in
                try db.execute("INSERT INTO committer_probe (name) VALUES (?)", ["lone"])
                throw OperationRefused()
            }
        }
        #expect(try await Self.names(in: engine).isEmpty)
    }
}
