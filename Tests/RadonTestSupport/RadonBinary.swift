import Foundation

/// The `radonfs` executable these tests drive. Tests that start real clusters must run the
/// binary of this very checkout (not one on PATH), so its location is derived from this file.
public enum RadonBinary {
    /// .build/debug/radonfs under the package root, or the release build when there is no
    /// debug one (`swift test -c release`).
    public static let path: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let debug = url.appendingPathComponent(".build/debug/radonfs").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : url.appendingPathComponent(".build/release/radonfs").path
    }()
}
