import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The mounts a target adds after `setUp` for the concurrent writers
/// (`BenchFSTarget.addMounts`): `mnt2`, `mnt3`, ... beside its first, each with the process
/// serving it where the target starts one. A mount is recorded before it is up, so a teardown
/// after a failed `add` still unmounts and stops it; `removeAll` is the teardown's first step.
final class BenchFSAddedMounts {
    private var mounts: [(mountPoint: String, process: pid_t?)] = []
    private let stopGrace: Duration

    /// `stopGrace`: how long `removeAll` lets a serving process exit before killing it.
    init(stopGrace: Duration) {
        self.stopGrace = stopGrace
    }

    /// The processes serving the added mounts.
    var processes: [pid_t] { mounts.compactMap(\.process) }

    /// Adds `count` mounts under `directory`: `mount` mounts the mount point it is given (with
    /// its number, 2, 3, ...) and returns the process serving it, if it started one. Each must
    /// appear within 30 s, else `add` fails with what `failure` says of it.
    func add(
        _ count: Int, under directory: String,
        mount: (_ mountPoint: String, _ number: Int) async throws -> pid_t?,
        failure: (_ mountPoint: String, _ number: Int) -> String
    ) async throws -> [String] {
        guard count > 0 else { return [] }
        var added: [String] = []
        for number in 2...(count + 1) {
            let mountPoint = "\(directory)/mnt\(number)"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            mounts.append((mountPoint, nil))
            mounts[mounts.count - 1].process = try await mount(mountPoint, number)
            guard await BenchFSSystem.waitUntil(timeout: .seconds(30), { LocalClusterLauncher.isMounted(mountPoint) }) else {
                throw CLIError(failure(mountPoint, number))
            }
            added.append(mountPoint)
        }
        return added
    }

    /// Unmounts every added mount still mounted, then stops and reaps their processes.
    func removeAll() async {
        for mount in mounts where LocalClusterLauncher.isMounted(mount.mountPoint) {
            DownCommand.unmount(mount.mountPoint)
        }
        let processes = processes
        if !processes.isEmpty {
            await BackgroundProcess.stop(processes, grace: stopGrace)
            processes.forEach { BackgroundProcess.reapIfExited($0) }
        }
        mounts = []
    }
}
