import ArgumentParser
import Foundation
import RadonCodec

/// `radonfs bench codec`: every codec on the same buffers, in one process, one thread, one run,
/// so the Mojette and ISA-L figures are comparable to each other and to memcpy.
struct BenchCodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Measure encode and decode speed of the erasure codes against ISA-L and memcpy.",
        discussion: """
            For each block size, layout and codec: encode GB/s and decode GB/s (data bytes per \
            second, medians of --repetitions samples), decode losing n-k data fragments (the worst \
            case) in several patterns and reporting the slowest, and the storage overhead (bytes \
            stored / data bytes). For the systematic codecs (mojette-systematic, rs) encode computes \
            the parity only and decode rebuilds the lost lines in place, as a zero-copy client does \
            (data fragments are slices of the block); the "full" columns go through the whole-block \
            API (copying every line) instead. Codecs are sampled in turn on the same buffers; times \
            are CPU time of the measuring thread. Build with `swift build -c release`.
            """
    )

    @Option(help: "Comma-separated codecs: mojette-systematic, mojette, rs.")
    var codecs = CodecKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Comma-separated layouts k+m.")
    var layouts = "2+1,4+2,6+3,8+4,10+4"

    @Option(name: .customLong("block-sizes"), help: "Comma-separated block sizes in bytes or with KiB/MiB (e.g. 4KiB,64KiB,1MiB).")
    var blockSizes = "4KiB,64KiB,1MiB"

    @Option(help: "Samples per measurement; the table shows their median.")
    var repetitions = 21

    @Option(name: .customLong("sample-ms"), help: "Approximate duration of one sample in milliseconds.")
    var sampleMilliseconds = 5.0

    @Flag(help: "A smoke run: 3 samples of about 2 ms each.")
    var quick = false

    @Flag(help: "Print one JSON object per (codec, layout, block size) instead of the table.")
    var json = false

    @Option(name: .customLong("json-file"), help: "Also write the JSON objects to this file (the table and the file then come from one run).")
    var jsonFile: String?

    mutating func validate() throws {
        _ = try plan()
    }

    func run() throws {
        let plan = try plan()
        let started = Date(), loadAtStart = Self.loadAverage()
        let results = try CodecBenchmark(plan: plan).run { progress in
            if !json { FileHandle.standardError.write(Data((progress + "\n").utf8)) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let encoded = try encoder.encode(results)
        if let jsonFile {
            try encoded.write(to: URL(fileURLWithPath: jsonFile))
        }
        if json {
            print(String(decoding: encoded, as: UTF8.self))
        } else {
            // The conditions of the run first: on a shared machine the load moves every figure.
            print("radonfs bench codec, \(started.ISO8601Format()): \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                  + String(format: "load %.1f at start, %.1f at end; ", loadAtStart, Self.loadAverage())
                  + "medians of \(plan.repetitions) samples of \(String(format: "%g", plan.sampleSeconds * 1000)) ms\n")
            print(CodecBenchmark.table(results))
            let goal = CodecBenchmark.goalSummary(results)
            if !goal.isEmpty { print(goal) }
        }
    }

    private func plan() throws -> CodecBenchmark.Plan {
        let kinds = try codecs.split(separator: ",").map { name in
            guard let kind = CodecKind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown codec \(name); known: \(CodecKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        let parsedLayouts = try layouts.split(separator: ",").map { text in
            do { return try CodecLayout(parsing: text.trimmingCharacters(in: .whitespaces)) } catch {
                throw ValidationError("bad layout \(text): \(error)")
            }
        }
        let sizes = try blockSizes.split(separator: ",").map { text in
            guard let size = Self.parseSize(String(text)) else { throw ValidationError("bad block size \(text)") }
            return size
        }
        guard repetitions >= 1, sampleMilliseconds > 0 else { throw ValidationError("repetitions and sample-ms must be positive") }
        return CodecBenchmark.Plan(kinds: kinds, layouts: parsedLayouts, blockSizes: sizes,
                                   repetitions: quick ? 3 : repetitions,
                                   sampleSeconds: (quick ? 2 : sampleMilliseconds) / 1000)
    }

    /// The 1-minute load average (0 where /proc is missing).
    static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }

    /// "4096", "4KiB", "64KiB", "1MiB" (also K, M, KB, MB as binary units).
    static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int)] = [("kib", 1 << 10), ("mib", 1 << 20), ("kb", 1 << 10), ("mb", 1 << 20), ("k", 1 << 10), ("m", 1 << 20)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            return Int(trimmed.dropLast(suffix.count)).map { $0 * scale }
        }
        return Int(trimmed)
    }
}
