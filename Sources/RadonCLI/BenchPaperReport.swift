import Foundation

/// The four access patterns of the paper's IOzone runs (its figures 4 and 5).
enum BenchPaperTest: String, CaseIterable, Codable, Sendable {
    case sequentialWrite = "seq-write"
    case sequentialRead = "seq-read"
    case randomRead = "rand-read"
    case randomWrite = "rand-write"

    var label: String {
        switch self {
        case .sequentialWrite: "sequential write"
        case .sequentialRead: "sequential read"
        case .randomRead: "random read"
        case .randomWrite: "random write"
        }
    }

    /// fio's `--rw` for it.
    var fioPattern: String {
        switch self {
        case .sequentialWrite: "write"
        case .sequentialRead: "read"
        case .randomRead: "randread"
        case .randomWrite: "randwrite"
        }
    }

    var isSequential: Bool { self == .sequentialWrite || self == .sequentialRead }
    var writes: Bool { self == .sequentialWrite || self == .randomWrite }
}

/// What one pattern measured with one layout and one number of clients: each thread's MB/s.
///
/// Invariant: `threadMBps` is not empty. The accumulated figure is the sum of the threads' own
/// rates, as the paper's "accumulated throughput recorded by the threads".
struct BenchPaperResult: Codable, Sendable, Equatable {
    var layout: String
    var clients: Int
    var test: BenchPaperTest
    var threadMBps: [Double]

    init(layout: String, clients: Int, test: BenchPaperTest, threadMBps: [Double]) {
        precondition(!threadMBps.isEmpty, "a result has at least one thread")
        self.layout = layout
        self.clients = clients
        self.test = test
        self.threadMBps = threadMBps
    }

    var minimum: Double { threadMBps.min()! }
    var accumulated: Double { threadMBps.reduce(0, +) }

    /// The median thread (the mean of the two middle ones for an even count).
    var median: Double {
        let sorted = threadMBps.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Whether every thread got the paper's need (a ProRes 422 stream).
    var meetsGoal: Bool { minimum >= BenchPaperReport.goalPerThread }
}

/// Everything one `radonfs bench paper` run measured, as `--json` writes it and the table reads it.
struct BenchPaperReport: Codable, Sendable {
    /// MB/s each thread needs: one Apple ProRes 422 stream (200 Mbit/s), the paper's study case.
    static let goalPerThread = 25.0

    /// One iperf3 measurement over the bed's links.
    struct LinkBound: Codable, Sendable, Equatable {
        var description: String
        var streams: Int
        var megabytesPerSecond: Double
    }

    /// The run that cut a storage host's link half-way through the sequential reads.
    struct CutLink: Codable, Sendable {
        var layout: String
        var clients: Int
        var host: String
        var afterSeconds: Double
        var result: BenchPaperResult?
        /// What failed, if a thread failed (the goal is that none does).
        var error: String?
    }

    var date: String
    var command: String
    var cores: Int
    var memoryGiB: Int
    var codec: String
    var threadsPerClient: Int
    var fileSize: Int
    var randomRequestSize: Int
    var randomRuntime: Int
    var linkRate: String
    /// Links per storage and per client host; nil in a report of a run before hosts had several.
    var storagePaths: Int?
    var clientPaths: Int?
    /// Each client link used and the storage paths it carries (`TestbedPlan.clientLinkPlan`).
    var clientLinks: [String]?
    var results: [BenchPaperResult] = []
    var linkBounds: [LinkBound] = []
    var cutLink: CutLink?

    /// The results as the README shows them: one row per layout, clients and pattern.
    var table: String {
        var lines = [
            "| layout | clients | test | threads | min MB/s per thread | median MB/s per thread | accumulated MB/s | every thread >= \(Int(Self.goalPerThread)) MB/s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for result in results {
            lines.append("| \(result.layout) | \(result.clients) | \(result.test.label) | \(result.threadMBps.count) | \(Self.format(result.minimum)) | \(Self.format(result.median)) | \(Self.format(result.accumulated)) | \(result.meetsGoal ? "yes" : "no") |")
        }
        return lines.joined(separator: "\n")
    }

    /// The iperf3 bounds beside the results.
    var boundTable: String {
        guard !linkBounds.isEmpty else { return "" }
        var lines = ["| iperf3 over the bed's links | streams | MB/s |", "|---|---|---|"]
        for bound in linkBounds {
            lines.append("| \(bound.description) | \(bound.streams) | \(Self.format(bound.megabytesPerSecond)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The cut-link run in one sentence.
    var cutLinkLine: String? {
        guard let cut = cutLink else { return nil }
        let head = "cut link: \(cut.host) taken down \(Self.format(cut.afterSeconds)) s into the sequential reads (layout \(cut.layout), \(cut.clients) clients)"
        if let error = cut.error { return head + ": FAILED: \(error)" }
        guard let result = cut.result else { return head }
        return head + ": slowest thread \(Self.format(result.minimum)) MB/s, median \(Self.format(result.median)), accumulated \(Self.format(result.accumulated))"
    }

    /// What the run was, in the words the README uses.
    var header: String {
        """
        RadonFS, the RozoFS paper's experiment on an emulated test bed: \(cores) cores, \(memoryGiB) GiB, links tbf \(linkRate) each way.
        Codec \(codec); \(threadsPerClient) threads per client, each on its own file of \(ByteCount.describe(fileSize)) \
        (the paper: 1 GB); sequential requests 1 MiB, random \(ByteCount.describe(randomRequestSize)) for \(randomRuntime) s.
        """ + linkPlan
    }

    /// The links per host, and over which client link each storage path goes, when hosts have several.
    var linkPlan: String {
        let storage = storagePaths ?? 1
        let client = clientPaths ?? 1
        guard storage > 1 || client > 1 else { return "" }
        let links = { (count: Int) in count == 1 ? "1 link" : "\(count) links" }
        let lines = (clientLinks ?? []).map { "\n  \($0)" }.joined()
        return "\nLinks: \(links(storage)) per storage host, \(links(client)) per client host (storage path p over client link p mod \(client)):" + lines
    }

    static func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
