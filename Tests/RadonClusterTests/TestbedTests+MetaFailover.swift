import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The paper's two metadata hosts on the test bed (`--metas 2`): a PostgreSQL primary on meta0,
/// its streaming standby on meta1, a metadata server on each. With the active server SIGKILLed,
/// the mount keeps writing and reading (meta1 took the lease), and `testbed down` leaves no
/// PostgreSQL, namespace or mount. Lean (3 storage hosts, 2+1, one client) for CI's budget.
extension TestbedTests {
    static let canRunPair = canRun && PostgresTools.available
    /// A lean bed with both metadata hosts, for CI's budget.
    static let pairBedArguments = ["--metas", "2", "--storage-hosts", "3", "--clients", "1", "--layout", "2+1", "--block-size", "64KiB"]

    /// The pid and address of the metadata server `testbed status` calls `role`.
    static func meta(_ role: String, in status: String) -> (pid: pid_t, address: String)? {
        for line in status.split(separator: "\n") where line.contains("meta pid") && line.contains("(\(role))") {
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "pid"), let pid = pid_t(words[words.index(after: at)]),
                  let address = words.first(where: { $0.hasPrefix("10.214.1.") }) else { continue }
            return (pid, String(address))
        }
        return nil
    }

    /// Processes whose command line names `directory` (PostgreSQL's `-D DIR/postgres/...`).
    static func processes(naming directory: String) -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int($0) != nil }
        return pids.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return line.contains(directory + "/") ? "\(pid): \(line)" : nil
        }
    }

    @Test(.enabled(if: canRunPair, "needs root, nsenter, PostgreSQL's server binaries and the radonfs binary of this build"),
          .timeLimit(.minutes(3)))
    func theStandbyMetaHostTakesOverWhenTheActiveOneIsKilled() async throws {
        try await Self.withBed("radonfs-testbed-ha", Self.pairBedArguments) { directory in
            var status = try Self.radonfs(["testbed", "status", "--dir", directory])
            let active = try #require(Self.meta("active", in: status), "no active metadata server in:\n\(status)")
            #expect(Self.meta("standby", in: status) != nil, "no standby metadata server in:\n\(status)")
            #expect(status.contains("10.214.1.2:5432 (primary)") && status.contains("10.214.1.3:5433 (standby)"),
                    "PostgreSQL is not primary on meta0 and standby on meta1:\n\(status)")
            // The standby replicates over the bed's link, from meta1's address.
            let replication = try Self.radonfs(["testbed", "run", "meta0", "--dir", directory, "--", "ss", "-tnH", "state", "established"])
            #expect(replication.contains("10.214.1.2:5432") && replication.contains("10.214.1.3:"),
                    "no connection from meta1 to meta0's PostgreSQL:\n\(replication)")

            let mount = "\(directory)/mnt/client0"
            let before = patternBytes(count: 1 << 20 + 4_321, seed: 21)
            try Data(before).write(to: URL(fileURLWithPath: "\(mount)/before.bin"))

            #expect(kill(active.pid, SIGKILL) == 0)
            // Through the same mount, after the takeover (the standby waits out the dead one's lease).
            let after = patternBytes(count: 700_001, seed: 22)
            try Data(after).write(to: URL(fileURLWithPath: "\(mount)/after.bin"))
            let readAfter = try #require(FileManager.default.contents(atPath: "\(mount)/after.bin"))
            #expect(sha256(Array(readAfter)) == sha256(after), "the mount read other bytes than it wrote after the takeover")
            try FileManager.default.createDirectory(atPath: "\(mount)/made-after", withIntermediateDirectories: false)
            let listed = try FileManager.default.contentsOfDirectory(atPath: mount)
            #expect(Set(listed).isSuperset(of: ["before.bin", "after.bin", "made-after"]), "the mount lists \(listed)")

            // Both files read back from the cluster itself (not the mount's cache), through the new active server.
            for (name, bytes) in [("before.bin", before), ("after.bin", after)] {
                let copy = "\(directory)/\(name).copy"
                try Self.radonfs(["get", "--dir", directory, "/\(name)", copy])
                let read = try #require(FileManager.default.contents(atPath: copy))
                #expect(sha256(Array(read)) == sha256(bytes), "\(name) reads back other bytes after the takeover")
            }
            status = try Self.radonfs(["testbed", "status", "--dir", directory])
            let successor = try #require(Self.meta("active", in: status), "no active metadata server after the kill:\n\(status)")
            #expect(successor.address != active.address, "the killed server still answers as active:\n\(status)")

            try Self.radonfs(["testbed", "down", "--dir", directory, "--grace", "5"])
            #expect(Self.leftovers().isEmpty, "left behind: \(Self.leftovers())")
            #expect(Self.mounts(under: directory).isEmpty, "still mounted: \(Self.mounts(under: directory))")
            #expect(Self.processes(naming: directory).isEmpty, "still running: \(Self.processes(naming: directory))")
            try Self.radonfs(["testbed", "down", "--dir", directory])
        }
    }
}
