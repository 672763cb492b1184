import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The yardstick of `radonfs bench rebuild`: how fast the disk under the clusters reads a file
/// sequentially when nothing is cached, measured with dd.
enum BenchRebuildDisk {
    /// Writes a 1 GiB file in `directory` (flushed), drops the caches, reads it back with dd in
    /// 1 MiB requests; MB/s (10^6 bytes per second).
    static func sequentialReadRate(in directory: String, bytes: Int = 1 << 30) async throws -> Double {
        let path = "\(directory)/disk-read-test"
        defer { unlink(path) }
        try await BenchFSSystem.run("dd", ["if=/dev/urandom", "of=\(path)", "bs=1M", "count=\(bytes >> 20)", "conv=fdatasync"])
        try BenchFSSystem.dropCaches(syncing: directory)
        let result = try await BenchFSSystem.run("dd", ["if=\(path)", "of=/dev/null", "bs=1M"])
        guard let rate = ddRate(result.output) else { throw CLIError("cannot read dd's figures from: \(result.output)") }
        return rate
    }

    /// MB/s from dd's summary line, "N bytes (...) copied, S s, ...": N / S, not dd's rounded rate.
    static func ddRate(_ output: String) -> Double? {
        guard let line = output.split(separator: "\n").last(where: { $0.contains(" copied, ") }),
              let byteCount = Double(line.split(separator: " ").first ?? ""),
              let secondsField = line.components(separatedBy: " copied, ").last?.split(separator: " ").first,
              let seconds = Double(secondsField.replacingOccurrences(of: ",", with: ".")), seconds > 0 else { return nil }
        return byteCount / seconds / 1e6
    }
}
