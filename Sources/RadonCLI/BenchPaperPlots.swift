import Foundation

/// PNG plots in the style of the RozoFS paper's figures 4 (sequential) and 5 (random): the
/// accumulated MB/s of the threads against the number of clients, a line per pattern, drawn by
/// gnuplot (Debian's gnuplot-nox), with the goal line: 25 MB/s for every thread.
struct BenchPaperPlots {
    var report: BenchPaperReport

    /// The two figures of each layout: (file name stem, title, patterns).
    static let figures: [(stem: String, title: String, tests: [BenchPaperTest])] = [
        ("figure4", "sequential access", [.sequentialWrite, .sequentialRead]),
        ("figure5", "random access", [.randomRead, .randomWrite]),
    ]

    /// Writes the data, the gnuplot scripts and the PNGs into `directory`; returns the PNGs' paths.
    func write(to directory: String) async throws -> [String] {
        guard BenchFSSystem.isInstalled("gnuplot") else { throw CLIError("gnuplot is not installed (Debian's gnuplot-nox)") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var images: [String] = []
        for layout in Self.layouts(in: report.results) {
            for figure in Self.figures {
                let stem = "\(directory)/\(figure.stem)-\(layout)"
                guard let data = Self.data(report.results, layout: layout, tests: figure.tests) else { continue }
                try Data(data.utf8).write(to: URL(fileURLWithPath: stem + ".dat"))
                let script = Self.script(
                    data: stem + ".dat", image: stem + ".png", title: "RadonFS \(layout), \(figure.title), \(report.threadsPerClient) threads per client",
                    tests: figure.tests, threadsPerClient: report.threadsPerClient, maximumClients: Self.clientCounts(in: report.results).max() ?? 1)
                try Data(script.utf8).write(to: URL(fileURLWithPath: stem + ".gp"))
                try await BenchFSSystem.run("gnuplot", [stem + ".gp"])
                images.append(stem + ".png")
            }
        }
        return images
    }

    static func layouts(in results: [BenchPaperResult]) -> [String] {
        results.map(\.layout).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    static func clientCounts(in results: [BenchPaperResult]) -> [Int] {
        Set(results.map(\.clients)).sorted()
    }

    /// A row per client count: clients, then each pattern's accumulated MB/s (`NaN` where it
    /// was not measured); nil when none of `tests` was measured for `layout`.
    static func data(_ results: [BenchPaperResult], layout: String, tests: [BenchPaperTest]) -> String? {
        let mine = results.filter { $0.layout == layout && tests.contains($0.test) }
        guard !mine.isEmpty else { return nil }
        var lines = ["# clients " + tests.map(\.rawValue).joined(separator: " ")]
        for clients in clientCounts(in: mine) {
            let values = tests.map { test in
                mine.first { $0.clients == clients && $0.test == test }.map { String(format: "%.1f", $0.accumulated) } ?? "NaN"
            }
            lines.append("\(clients) " + values.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func script(data: String, image: String, title: String, tests: [BenchPaperTest], threadsPerClient: Int, maximumClients: Int) -> String {
        let goal = BenchPaperReport.goalPerThread * Double(threadsPerClient)
        let lines = tests.enumerated().map { index, test in
            "'\(data)' using 1:\(index + 2) with linespoints linewidth 2 pointtype \(index * 2 + 5) title '\(test.label)'"
        } + ["\(goal) * x with lines dashtype 2 linewidth 2 linecolor rgb 'red' title 'goal: \(Int(BenchPaperReport.goalPerThread)) MB/s per thread'"]
        return """
            set terminal pngcairo size 800,500 font ',11'
            set output '\(image)'
            set title '\(title)'
            set xlabel 'clients'
            set ylabel 'accumulated throughput (MB/s)'
            set xrange [0.8:\(Double(maximumClients) + 0.2)]
            set xtics 1
            set yrange [0:*]
            set grid ytics
            set key top left
            plot \(lines.joined(separator: ", \\\n     "))

            """
    }
}
