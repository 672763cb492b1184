import Foundation
@testable import RadonCLI
import Synchronization
import Testing

/// `bench fs` goes round the targets once per repetition (all set up first, all torn down last),
/// so load that drifts during a run weighs on every target alike; a target that fails to set
/// up is torn down and reported, the others measured. Real fio jobs on local directories.
@Suite("bench fs: repetitions interleaved across targets")
struct BenchFSInterleavingTests {
    /// What the fake targets saw, in order, across all of them.
    final class Events: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ event: String) { list.withLock { $0.append(event) } }
        var all: [String] { list.withLock { $0 } }
    }

    /// A local directory as a target, recording its set-up, tear-down and each job whose CPU
    /// time the runner measures (it asks for the serving processes at each of them).
    final class RecordingTarget: BenchFSTarget {
        let key: String
        let title: String
        let dataDirectory: String
        let events: Events
        let failsToSetUp: Bool

        init(_ key: String, in root: String, events: Events, failsToSetUp: Bool = false) {
            self.key = key
            self.title = key
            self.dataDirectory = "\(root)/\(key)"
            self.events = events
            self.failsToSetUp = failsToSetUp
        }

        func setUp() async throws -> String {
            events.add("\(key) up")
            if failsToSetUp { throw CLIError("\(key) cannot start") }
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            return dataDirectory
        }

        func addMounts(_ count: Int) async throws -> [String] { [] }

        func tearDown() async { events.add("\(key) down") }

        func servingProcesses() -> [pid_t] {
            events.add("\(key) measured")
            return []
        }
    }

    @Test("every repetition visits every target in turn; a failed set-up is torn down, the others measured")
    func repetitionsGoRoundTheTargets() async throws {
        let root = NSTemporaryDirectory() + "bench-interleave-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let events = Events()
        let targets: [any BenchFSTarget] = [
            RecordingTarget("a", in: root, events: events),
            RecordingTarget("broken", in: root, events: events, failsToSetUp: true),
            RecordingTarget("b", in: root, events: events),
        ]
        let settings = BenchFSJobSettings(
            fileSize: 1 << 20, randomRuntime: 1, randomThreads: 1, smallFileCount: 20, smallFileSize: 512
        )
        let command = try BenchFSCommand.parse([])
        let results = await command.measure(targets, rounds: 2, fileRounds: 1, runner: BenchFSJobRunner(settings: settings) { _ in })

        // The runner asks a target for its processes around each job it times; in the order
        // of those asks, with repeats folded, each repetition is a then b.
        let measured = events.all.filter { $0.hasSuffix("measured") }.map { String($0.split(separator: " ")[0]) }
        let turns = measured.enumerated().filter { $0.offset == 0 || measured[$0.offset - 1] != $0.element }.map(\.element)
        #expect(turns == ["a", "b", "a", "b"])
        let lifecycle = events.all.filter { !$0.hasSuffix("measured") }
        #expect(lifecycle == ["a up", "broken up", "b up", "a down", "broken down", "b down"])

        let byKey = Dictionary(uniqueKeysWithValues: results.map { ($0.key, $0) })
        #expect(byKey["broken"]?.error?.contains("broken cannot start") == true)
        for key in ["a", "b"] {
            let result = try #require(byKey[key])
            #expect(result.error == nil)
            #expect(result.samples[BenchFSMetric.sequentialWrite.rawValue]?.count == 2)
            #expect(result.samples[BenchFSMetric.create.rawValue]?.count == 1, "small files only in the first repetition")
            #expect((result.medians[BenchFSMetric.sequentialRead.rawValue] ?? 0) > 0)
        }
    }
}
