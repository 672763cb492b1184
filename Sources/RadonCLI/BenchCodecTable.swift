import Foundation

extension CodecBenchmark {
    /// The human-readable table: one line per (block size, layout, codec), ratios against ISA-L.
    static func table(_ results: [Result]) -> String {
        let header = ["block", "layout", "codec", "encode GB/s", "decode GB/s", "enc/rs", "dec/rs", "overhead", "enc full", "dec full", "memcpy GB/s"]
        var rows: [[String]] = [header]
        for result in results {
            let reference = results.first { $0.codec == "rs" && $0.layout == result.layout && $0.blockSize == result.blockSize }
            func ratio(_ value: Double, _ base: Double?) -> String {
                guard let base, base > 0 else { return "-" }
                return String(format: "%.2fx", value / base)
            }
            rows.append([
                sizeName(result.blockSize), result.layout, result.codec,
                String(format: "%.1f", result.encodeGbps), String(format: "%.1f", result.decodeGbps),
                ratio(result.encodeGbps, reference?.encodeGbps), ratio(result.decodeGbps, reference?.decodeGbps),
                String(format: "%.4f", result.overhead),
                String(format: "%.1f", result.encodeFullGbps), String(format: "%.1f", result.decodeFullGbps),
                String(format: "%.1f", result.memcpyGbps),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                column < 3 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: lines[0].count)
        return ([lines[0], rule] + lines.dropFirst()).joined(separator: "\n") + """

            \(rule)
            GB/s = 1e9 data bytes per CPU-second of the one measuring thread, median. decode = the slowest pattern of n-k lost data \
            fragments. Systematic codecs: encode = parity only, decode = rebuild lost lines in place; \
            "full" = whole-block encode/decode API copying every line.
            """
    }

    /// The issue's goal, cell by cell: Mojette systematic at least 1.5x ISA-L for encode and decode
    /// at 4+2 and 8+4 with 64 KiB and 1 MiB blocks (only the cells this run measured).
    static func goalSummary(_ results: [Result]) -> String {
        var cells: [String] = []
        for blockSize in [64 << 10, 1 << 20] {
            for layout in ["4+2", "8+4"] {
                let match = { (codec: String) in results.first { $0.codec == codec && $0.layout == layout && $0.blockSize == blockSize } }
                guard let mojette = match("mojette-systematic"), let rs = match("rs"), rs.encodeGbps > 0, rs.decodeGbps > 0 else { continue }
                let encode = mojette.encodeGbps / rs.encodeGbps, decode = mojette.decodeGbps / rs.decodeGbps
                let verdict = encode >= 1.5 && decode >= 1.5 ? "met" : "NOT met"
                cells.append(String(format: "%@ %@ enc %.2fx dec %.2fx %@", sizeName(blockSize), layout, encode, decode, verdict))
            }
        }
        guard !cells.isEmpty else { return "" }
        return "goal (mojette-systematic >= 1.5x rs, encode and decode): " + cells.joined(separator: "; ")
    }

    static func sizeName(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }
}
