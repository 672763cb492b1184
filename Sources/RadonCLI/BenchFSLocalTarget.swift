import Foundation

/// The local disk as the limit: a plain directory on the same file system that holds the
/// GlusterFS bricks and the RadonFS storage directories, so all three share one device.
final class BenchFSLocalTarget: BenchFSTarget {
    let key = "local"
    let title = "local disk"
    private let directory: String
    var dataDirectory: String { directory }

    init(workDirectory: String) {
        directory = "\(workDirectory)/local"
    }

    func setUp() async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The one directory again: the disk has no clients to add.
    func addMounts(_ count: Int) async throws -> [String] {
        Array(repeating: directory, count: count)
    }

    /// Nothing runs; the directory goes with the others at the end.
    func tearDown() async {}
}
