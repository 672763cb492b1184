import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Takes a test bed down: unmounts every mount, stops every process it started, then its
/// PostgreSQL servers (`pg_ctl stop`, a clean shutdown), then anything else still running in its
/// namespaces, and removes the namespaces, veths and bridge.
///
/// Works from whatever is left: the state file if there is one, else the names every bed uses,
/// so it cleans up after a crash too, and running it twice does nothing the second time.
enum TestbedTeardown {
    /// What `down` did, for its report.
    struct Outcome {
        var unmounted: [String] = []
        var stopped = 0
        var killed: [pid_t] = []
        var namespacesRemoved: [String] = []
    }

    static func run(directory: String, grace: Duration) async -> Outcome {
        var outcome = Outcome()
        let state = try? TestbedState.load(from: directory)

        // Mounts first: a FUSE mount whose daemon dies first leaves a dead mount point behind.
        var mountPoints = Set(state?.mounts.compactMap(\.mountPoint) ?? [])
        mountPoints.formUnion(mounted(under: "\(directory)/mnt/"))
        for mountPoint in mountPoints.sorted() where LocalClusterLauncher.isMounted(mountPoint) {
            DownCommand.unmount(mountPoint)
            outcome.unmounted.append(mountPoint)
        }

        // Our own processes, mounts then storage then meta (pids checked to still be ours), then
        // whatever else runs in the namespaces (`testbed run` servers, a process of a crashed up).
        let recorded = (state?.processes ?? []).sorted { order($0.kind) < order($1.kind) }
            .map(\.pid).filter { isOurs($0, directory: directory) }
        await stop(recorded, outcome: &outcome, grace: grace)
        // PostgreSQL after the metadata servers that use it; a server `pg_ctl` cannot stop (or
        // one of an `up` that crashed before recording it) goes with the namespaces' processes.
        if let postgres = state?.postgres {
            outcome.stopped += stopPostgres(postgres, directory: directory)
        }
        await stop(TestbedNetwork.existingNamespaces().flatMap(TestbedNetwork.processes(in:)), outcome: &outcome, grace: grace)

        outcome.namespacesRemoved = TestbedNetwork.existingNamespaces()
        TestbedNetwork.remove(state?.plan)
        for file in [TestbedState.path(in: directory), LocalClusterState.path(in: directory)] {
            unlink(file)
        }
        return outcome
    }

    private static func stop(_ pids: [pid_t], outcome: inout Outcome, grace: Duration) async {
        let running = pids.filter(BackgroundProcess.isRunning)
        outcome.stopped += running.count
        outcome.killed += await BackgroundProcess.stop(running, grace: grace)
    }

    /// `pg_ctl stop -m fast` on each server of the pair that runs; returns how many it stopped.
    private static func stopPostgres(_ postgres: LocalClusterState.Postgres, directory: String) -> Int {
        let local = LocalPostgres(state: postgres, clusterDirectory: directory)
        let running = postgres.servers.filter(local.isRunning)
        return running.filter { (try? local.stop($0, mode: "fast")) != nil }.count
    }

    private static func order(_ kind: String) -> Int {
        ["mount": 0, "storage": 1, "meta": 2][kind] ?? 3
    }

    /// Whether `pid` still runs one of the bed's processes: each names a path under the bed's
    /// directory on its command line, so a pid reused since a crash is left alone.
    private static func isOurs(_ pid: pid_t, directory: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(directory + "/")
    }

    /// Every mount point in /proc/mounts under `prefix`.
    private static func mounted(under prefix: String) -> [String] {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return [] }
        return mounts.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 && fields[1].hasPrefix(prefix) ? String(fields[1]) : nil
        }
    }
}
