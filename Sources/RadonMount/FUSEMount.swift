import CFUSE3
import Foundation
import Glibc
import Logging
import RadonClient
import Synchronization

/// A RadonFS mount: serves one `FileSystemOperations` at a mount point through the libfuse3
/// low-level API until it is unmounted.
///
/// ```swift
/// let mount = FUSEMount(fileSystem: client, mountPoint: "/mnt/radon", options: MountOptions(), logger: logger)
/// try await mount.run()   // returns once unmounted (by `stop()`, `radonfs umount` or umount)
/// ```
public final class FUSEMount: Sendable {
    public let mountPoint: String
    public let options: MountOptions
    private let dispatcher: MountDispatcher
    private let logger: Logger
    /// Set once the kernel mount exists, cleared when the session loop has ended.
    private let mounted = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    public init(fileSystem: any FileSystemOperations, mountPoint: String, options: MountOptions = MountOptions(), logger: Logger) {
        self.mountPoint = mountPoint
        self.options = options
        self.logger = logger
        self.dispatcher = MountDispatcher(fileSystem: fileSystem, mountPoint: mountPoint, options: options, logger: logger)
    }

    /// Whether the kernel mount is live.
    public var isMounted: Bool { mounted.load(ordering: .acquiring) }

    /// Mounts and serves requests on the calling thread until the file system is unmounted.
    /// Blocks: call it from a thread of its own (or use the async `run()`), never from a
    /// cooperative-pool thread, which the requests' tasks need.
    public func runBlocking() throws(MountError) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else {
            throw .sessionFailed("this mount has already been run")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: mountPoint, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .mountPointMissing(mountPoint)
        }
        if MountTable.isMountPoint(mountPoint) {
            throw .alreadyMounted(mountPoint)
        }
        let arguments = sessionArguments()
        var cArguments = arguments.map { strdup($0) }
        defer { cArguments.forEach { free($0) } }
        var fuseArguments = fuse_args(argc: Int32(cArguments.count), argv: nil, allocated: 0)
        var operations = makeLowLevelOperations()
        let userData = Unmanaged.passRetained(dispatcher)
        let session: OpaquePointer? = cArguments.withUnsafeMutableBufferPointer { argv in
            fuseArguments.argv = argv.baseAddress
            return fuse_session_new(&fuseArguments, &operations, MemoryLayout<fuse_lowlevel_ops>.size, userData.toOpaque())
        }
        guard let session else {
            userData.release()
            throw .sessionFailed("fuse_session_new refused the options \(arguments.dropFirst().joined(separator: " "))")
        }
        dispatcher.attach(session: session)
        guard fuse_session_mount(session, mountPoint) == 0 else {
            fuse_session_destroy(session)
            userData.release()
            throw .sessionFailed("the kernel refused to mount \(mountPoint) (is /dev/fuse usable, is it root?)")
        }
        mounted.store(true, ordering: .releasing)
        logger.info("mounted RadonFS at \(mountPoint)")

        let configuration = fuse_loop_cfg_create()
        fuse_loop_cfg_set_max_threads(configuration, options.maximumThreads)
        fuse_loop_cfg_set_idle_threads(configuration, max(2, options.maximumThreads / 2))
        let result = fuse_session_loop_mt(session, configuration)
        fuse_loop_cfg_destroy(configuration)
        mounted.store(false, ordering: .releasing)
        fuse_session_unmount(session)
        logger.info("unmounted \(mountPoint) (session loop ended with \(result))")

        // Tasks still answering requests use the session: free it only once they are done.
        let deadline = ContinuousClock.now + .seconds(30)
        while dispatcher.pendingRequestCount > 0, ContinuousClock.now < deadline {
            usleep(10_000)
        }
        if dispatcher.pendingRequestCount == 0 {
            fuse_session_destroy(session)
            userData.release()
        } else {
            logger.warning("\(dispatcher.pendingRequestCount) requests still running; leaving the FUSE session allocated")
        }
        if result < 0 {
            throw .sessionFailed("the session loop failed: \(String(cString: strerror(-result)))")
        }
    }

    /// Mounts and serves until unmounted, on a thread of its own, so async callers stay free.
    public func run() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try runBlocking()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "radonfs-fuse"
            thread.start()
        }
    }

    /// Unmounts, which ends `run()`. When files on the mount are still open the mount is
    /// detached lazily: it leaves the namespace now and ends when the last file is closed.
    public func stop() {
        guard isMounted else { return }
        do {
            try Unmount.unmount(mountPoint, lazy: false)
        } catch MountError.busy {
            logger.warning("\(mountPoint) is busy; detaching it lazily")
            try? Unmount.unmount(mountPoint, lazy: true)
        } catch {
            logger.error("cannot unmount \(mountPoint): \(error)")
        }
    }

    /// The command line libfuse parses: program name and `-o` mount options.
    private func sessionArguments() -> [String] {
        var mountOptions = [
            "fsname=\(options.sourceName)", "subtype=radonfs", "default_permissions",
        ]
        if options.allowOther { mountOptions.append("allow_other") }
        if options.readOnly { mountOptions.append("ro") }
        mountOptions += options.extraOptions
        var arguments = ["radonfs", "-o", mountOptions.joined(separator: ",")]
        if options.debug { arguments.append("-d") }
        return arguments
    }
}
