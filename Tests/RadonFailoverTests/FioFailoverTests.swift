import Foundation
import RadonTestSupport
import Testing

/// fio writing through a FUSE mount with --verify=crc32c while the active side of the metadata
/// service fails over: fio must finish without an error and verify every block.
///
@Suite("fio through the mount across failovers", .serialized)
struct FioFailoverTests {
    @Test("fio verifies after the active metadata server is SIGKILLed under it")
    func fioRidesThroughAKilledActive() async throws {
        try await fioAcross(.killActiveMeta)
    }

    @Test("fio verifies after the PostgreSQL primary crashes and its standby is promoted")
    func fioRidesThroughAPostgresPromotion() async throws {
        try await fioAcross(.promotePostgres)
    }

    /// A frozen server's connections neither answer nor close: the mount's calls on them must
    /// move to the new active once their ping goes unanswered (`SilenceWatch.metadata`, about
    /// 7 s), not after their 30 s timeout. It stays frozen for 35 s, past that timeout, since
    /// once woken it would answer them itself (`notActive`).
    @Test("fio verifies after the active metadata server is frozen under it for 35 s, with no 30 s stall")
    func fioRidesThroughAFrozenActive() async throws {
        let stall = try await fioAcross(.freezeActiveMeta(frozenFor: .seconds(35)))
        #expect(stall < .seconds(25), "a call waited for its timeout instead of leaving the frozen server")
    }

    /// Runs fio across `failover`; returns the longest stall the mount's probe saw.
    @discardableResult
    func fioAcross(_ failover: LocalCluster.Failover) async throws -> Duration {
        var longest = Duration.zero
        try await LocalCluster.with(
            directoryPrefix: "radonfs-fio", nodes: 3, layout: "2+1", environment: MetaFencingTests.environment,
            upArguments: LocalCluster.activeStandbyArguments(), mount: true
        ) { cluster in
            let mountPoint = "\(cluster.directory)/mnt"
            let output = "\(cluster.directory).fio.json"
            defer { try? FileManager.default.removeItem(atPath: output) }
            let fio = Process()
            fio.executableURL = URL(fileURLWithPath: "/usr/bin/fio")
            // About 12 s of writing at 3 MiB/s, so the failover lands in the middle; then the verify pass.
            fio.arguments = [
                "--name=failover", "--directory=\(mountPoint)", "--rw=write", "--bs=128k", "--size=36m", "--rate=3m",
                "--ioengine=psync", "--verify=crc32c", "--do_verify=1", "--verify_state_save=0", "--end_fsync=1",
                "--output-format=json", "--output=\(output)",
            ]
            fio.standardInput = FileHandle.nullDevice
            let probe = StallProbe(directory: mountPoint)
            try fio.run()
            defer { if fio.isRunning { fio.terminate() } }
            try await Task.sleep(for: .seconds(3))
            let report = try await cluster.failOver(failover)
            try await poll("fio to finish", timeout: .seconds(240), interval: .milliseconds(200)) { !fio.isRunning }
            let stalls = await probe.stop()
            let result = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let fioStall = Self.longestWriteLatency(fioJSON: result)
            print("""
                fio across \(failover): \(report); longest stall of the mount probe \(stalls.longest) \
                (\(stalls.failures) of \(stalls.rounds) rounds failed), longest fio write \(fioStall.map { "\($0)" } ?? "?") \
                (goal: 10 s or less)
                """)
            if stalls.failures > 0 || (fioStall ?? .zero) > .seconds(10) {
                // What the mount saw, to tell a retry that gave up from a slow path.
                let log = (try? String(contentsOfFile: "\(cluster.directory)/logs/mount.log", encoding: .utf8)) ?? ""
                print(log.split(separator: "\n").filter { !$0.contains(" trace ") }.suffix(30).joined(separator: "\n"))
            }
            #expect(fio.terminationStatus == 0, "fio failed:\n\(result.suffix(2000))")
            #expect(result.contains("\"error\" : 0"))
            #expect(stalls.failures == 0)
            longest = max(stalls.longest, fioStall ?? .zero)
        }
        return longest
    }

    /// The longest completion latency of fio's writes, from its JSON output.
    static func longestWriteLatency(fioJSON: String) -> Duration? {
        guard let start = fioJSON.firstIndex(of: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(fioJSON[start...].utf8)) as? [String: Any],
              let job = (object["jobs"] as? [[String: Any]])?.first,
              let write = job["write"] as? [String: Any],
              let latency = write["clat_ns"] as? [String: Any],
              let maximum = latency["max"] as? Double else { return nil }
        return .nanoseconds(Int64(maximum))
    }
}
