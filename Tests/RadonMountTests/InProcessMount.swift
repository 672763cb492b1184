import Foundation
import Logging
import RadonClient
import RadonMount

/// A `FUSEMount` of some `FileSystemOperations` in this test process, at a fresh directory.
final class InProcessMount: Sendable {
    let path: String
    let mount: FUSEMount
    private let running: Task<Void, any Error>

    private init(path: String, mount: FUSEMount, running: Task<Void, any Error>) {
        self.path = path
        self.mount = mount
        self.running = running
    }

    static func start(_ fileSystem: any FileSystemOperations, options: MountOptions = MountOptions()) async throws -> InProcessMount {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-mnt-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var logger = Logger(label: "radonfs.mount.test")
        logger.logLevel = .warning
        var options = options
        if ProcessInfo.processInfo.environment["RADONFS_FUSE_DEBUG"] != nil {
            options.debug = true
            logger.logLevel = .trace
        }
        let mount = FUSEMount(fileSystem: fileSystem, mountPoint: path, options: options, logger: logger)
        let running = Task { try await mount.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !MountTable.isRadonMount(path) {
            guard ContinuousClock.now < deadline else {
                running.cancel()
                throw MountError.sessionFailed("the test mount at \(path) did not appear")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return InProcessMount(path: path, mount: mount, running: running)
    }

    /// Unmounts (lazily if something still holds it) and waits for the session to end.
    func stop() async throws {
        mount.stop()
        try await running.value
        try? FileManager.default.removeItem(atPath: path)
    }
}
