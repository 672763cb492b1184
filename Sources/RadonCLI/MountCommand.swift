import ArgumentParser
import Dispatch
import Foundation
import Logging
import RadonClient
import RadonMount

/// `radonfs mount`: the cluster as a POSIX file system, through FUSE.
struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a RadonFS cluster as a POSIX file system (FUSE).",
        discussion: """
            Connects to the metadata service (--meta HOST:PORT with --key-file, or --dir of a \
            cluster started with `radonfs up`) and mounts the file system at MOUNTPOINT. Without \
            -f it runs in the background and returns once the mount is live; with -f it stays in \
            the foreground until unmounted or sent SIGTERM/SIGINT, which unmount cleanly.

            The kernel enforces permissions from the attributes (default_permissions) and the \
            mount is open to every user (allow_other). Attributes and names are cached for 1 s; \
            every open re-reads what other mounts wrote before they closed (close-to-open). \
            Options (-o, comma-separated): ro, attr_timeout=S, entry_timeout=S, max_write=BYTES, \
            read_ahead_kb=KIB, threads=N, noallow_other, fsname=NAME, debug, and the kernel's \
            noatime, nosuid, nodev, noexec.
            """
    )

    @OptionGroup var cluster: ClusterLocator

    @OptionGroup var metrics: MetricsOptions

    @Option(name: .long, help: ArgumentHelp("Mount this directory of the file system (of the export) as the root: df then shows its quota as the size.", valueName: "path"))
    var subdir: String?

    @Flag(name: [.customShort("f"), .customLong("foreground")], help: "Stay in the foreground (logs to stderr).")
    var foreground = false

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options, comma-separated (may repeat).", valueName: "options"))
    var mountOptions: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where the background mount logs (default: /tmp/radonfs-mount-<pid>.log).", valueName: "file"))
    var logFile: String?

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    @Option(name: .customLong("write-back"), help: ArgumentHelp("Seconds unflushed writes may wait before they are written back (like the kernel's dirty_expire).", valueName: "seconds"))
    var writeBack: Double = MetaHealingOptions.environment("RADONFS_WRITE_BACK", 30)

    @Argument(help: ArgumentHelp("An existing, empty directory to mount on.", valueName: "mountpoint"))
    var mountPoint: String

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        guard writeBack > 0 else { throw ValidationError("--write-back must be more than 0 seconds") }
        var options = MountOptions()
        for list in mountOptions {
            do { try options.apply(optionList: list) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        PrivateState.restrictNewFiles()
        let mountPoint = URL(fileURLWithPath: self.mountPoint).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: mountPoint, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(MountError.mountPointMissing(mountPoint))")
        }
        if MountTable.isMountPoint(mountPoint) {
            throw CLIError("\(MountError.alreadyMounted(mountPoint))")
        }
        if foreground {
            try await serve(at: mountPoint)
        } else {
            try await startInBackground(at: mountPoint)
        }
    }

    /// Mounts and serves here until unmounted; SIGTERM, SIGINT and SIGHUP unmount.
    private func serve(at mountPoint: String) async throws {
        var logger = Logger(label: "radonfs.mount")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var options = MountOptions()
        for list in mountOptions { try options.apply(optionList: list) }
        let metricsEndpoint = try await metrics.startEndpoint(registry: metrics.bootstrap(), logger: logger)
        defer { metricsEndpoint?.channel.close(promise: nil) }
        let (addresses, credentials) = try cluster.resolve(localIdentity: LocalClusterState.clientIdentity)
        let client = try await RadonFileSystemClient.connect(meta: addresses, credentials: credentials, logger: logger,
                                                             writeBackDelay: .milliseconds(Int64(writeBack * 1000)),
                                                             metaTimeout: cluster.rideThrough)
        let exported = try await client.exportedView()
        var view = exported.view
        let grant = exported.grant
        if let subdir, !RemotePath.components(subdir).isEmpty {
            let directory: InodeAttributes
            do {
                directory = try await RemotePath.resolve(subdir, in: view)
            } catch {
                await client.close()
                throw CLIError("--subdir \(subdir): \(error)")
            }
            guard directory.kind == .directory else {
                await client.close()
                throw CLIError("--subdir \(subdir) is not a directory")
            }
            view = ExportedSubtree(view, root: directory.inode)
        }
        if grant.readOnly { options.readOnly = true }
        if grant.path != "/" || grant.readOnly {
            logger.info("mounting export", metadata: ["path": "\(grant.path)", "read-only": "\(grant.readOnly)"])
        }
        let mount = FUSEMount(fileSystem: view, mountPoint: mountPoint, options: options, logger: logger)
        let signalSources = [SIGTERM, SIGINT, SIGHUP].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                logger.info("signal \(signalNumber): unmounting \(mountPoint)")
                mount.stop()
            }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }
        do {
            try await mount.run()
        } catch {
            await client.close()
            throw CLIError("\(error)")
        }
        await client.close()
    }

    /// Starts `radonfs mount -f` detached (its own session, output to the log file) and
    /// returns once the mount is live, or reports why it died.
    private func startInBackground(at mountPoint: String) async throws {
        let logPath = logFile ?? "/tmp/radonfs-mount-\(getpid()).log"
        var arguments = ["mount", "-f", "--log-level", logLevel, "--write-back", "\(writeBack)"]
        if let dir = cluster.dir { arguments += ["--dir", dir] }
        if let meta = cluster.meta { arguments += ["--meta", meta] }
        if let tlsDir = cluster.security.tlsDir { arguments += ["--tls-dir", tlsDir] }
        if let identity = cluster.security.identity { arguments += ["--identity", identity] }
        if cluster.security.insecure { arguments.append("--insecure") }
        if let keyFile = cluster.security.keyFile { arguments += ["--key-file", keyFile] }
        arguments += ["--meta-timeout", "\(cluster.metaTimeout)"] + metrics.arguments
        if let subdir { arguments += ["--subdir", subdir] }
        for list in mountOptions { arguments += ["-o", list] }
        arguments.append(mountPoint)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let pid = try BackgroundProcess.spawn(executable, arguments, logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if MountTable.isRadonMount(mountPoint) {
                print("mounted RadonFS at \(mountPoint) (pid \(pid), log \(logPath))")
                return
            }
            guard BackgroundProcess.isRunning(pid) else {
                throw CLIError("the mount exited before \(mountPoint) was live; \(logPath) says:\n\(BackgroundProcess.lastLines(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIError("\(mountPoint) was not mounted within 60 s (pid \(pid) still runs); see \(logPath)")
    }
}
