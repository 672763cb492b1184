import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs down`: stops a local cluster started by `radonfs up`, keeping its data.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop a local cluster: unmount, then stop every daemon (its data stays in DIR).",
        discussion: """
            Unmounts the mount point, sends SIGTERM to the mount, the storage daemons and the \
            metadata servers (then PostgreSQL, for a postgres cluster), waits for them to exit and kills (SIGKILL) any that do not within \
            --grace seconds. `radonfs up --dir DIR` starts the same cluster again.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The cluster directory given to `radonfs up`.", valueName: "dir"))
    var dir: String

    @Option(name: .long, help: "Seconds each process gets to exit after SIGTERM.")
    var grace: Int = 10

    func run() async throws {
        let directory = URL(fileURLWithPath: dir).standardizedFileURL.path
        let state = try LocalClusterState.load(from: directory)
        if let mount = state.mount, LocalClusterLauncher.isMounted(mount.mountPoint) {
            Self.unmount(mount.mountPoint)
        }
        if let mount = state.mount {
            await BackgroundProcess.stop([mount.pid], grace: .seconds(grace))
        }
        // Storage daemons before the service they report to.
        let storageKilled = await BackgroundProcess.stop(state.storage.map(\.pid), grace: .seconds(grace))
        let metaKilled = await BackgroundProcess.stop(state.metas.map(\.pid), grace: .seconds(grace))
        let killed = storageKilled + metaKilled
        // PostgreSQL last: the metadata servers give their lease up through it as they stop.
        if let postgres = state.postgres {
            let local = LocalPostgres(state: postgres, clusterDirectory: directory)
            for instance in postgres.servers {
                do {
                    try local.stop(instance)
                } catch {
                    print("warning: \(error)")
                }
            }
        }
        print("RadonFS cluster in \(directory) stopped" + (killed.isEmpty ? "." : "; killed with SIGKILL: \(killed)."))
    }

    /// Unmounts a FUSE mount point: `fusermount3 -u`, then a lazy `umount -l` if it is busy.
    static func unmount(_ mountPoint: String) {
        for command in [["/bin/fusermount3", "-u", mountPoint], ["/bin/umount", "-l", mountPoint]] {
            guard FileManager.default.isExecutableFile(atPath: command[0]),
                  let pid = try? BackgroundProcess.spawn(command[0], Array(command.dropFirst()), logPath: "/dev/null") else { continue }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if !LocalClusterLauncher.isMounted(mountPoint) { return }
        }
    }
}
