import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TestbedTests {
    /// The active metadata host's link cut (nothing refused, nothing closed: packets vanish),
    /// then its PostgreSQL failed over to meta1 with `meta promote`: the mount's calls stall,
    /// fail over to meta1 once it is elected, and none fails. Before the silence watch, the late
    /// renewal and the pass-over of a slow-to-connect address, the same cut stalled the mount
    /// 46 s; now about 9 s after the cut plus meta1's election after the promote.
    @Test(.enabled(if: canRunPair, "needs root, nsenter, PostgreSQL's server binaries and the radonfs binary of this build"),
          .timeLimit(.minutes(3)))
    func theMountRidesThroughACutLinkToTheActiveMetaHost() async throws {
        try await Self.withBed("radonfs-testbed-cut", Self.pairBedArguments) { directory in
            let status = try Self.radonfs(["testbed", "status", "--dir", directory])
            let active = try #require(Self.meta("active", in: status), "no active metadata server in:\n\(status)")
            #expect(active.address.hasPrefix("10.214.1.2:"), "meta0 is not the active server:\n\(status)")
            let mount = "\(directory)/mnt/client0"
            let probe = StallProbe(directory: mount, interval: .milliseconds(200))
            try await Task.sleep(for: .seconds(1))

            let cut = ContinuousClock.now
            try Self.radonfs(["testbed", "run", "meta0", "--dir", directory, "--", "ip", "link", "set", "rbm0p0n", "down"])
            try await Task.sleep(for: .seconds(5))
            let promoted = ContinuousClock.now
            try Self.radonfs(["meta", "promote", "--dir", directory])
            // Written once meta1 serves: the probe's rounds span the whole stall by then.
            let after = patternBytes(count: 300_001, seed: 23)
            try Data(after).write(to: URL(fileURLWithPath: "\(mount)/after-cut.bin"))
            let (longest, rounds, failures) = await probe.stop()
            print("cut link to the active metadata host: longest mount call \(longest) of \(rounds) rounds; promoted \(promoted - cut) after the cut, answered again \(ContinuousClock.now - promoted) after it")
            #expect(failures == 0, "\(failures) mount rounds failed")
            #expect(longest < .seconds(25), "a mount call stalled \(longest)")

            // What the mount wrote after the failover reads back from the cluster through meta1.
            let copy = "\(directory)/after-cut.copy"
            try Self.radonfs(["get", "--dir", directory, "/after-cut.bin", copy])
            let read = try #require(FileManager.default.contents(atPath: copy))
            #expect(sha256(Array(read)) == sha256(after), "the file written after the cut reads back other bytes")

            try Self.radonfs(["testbed", "down", "--dir", directory, "--grace", "5"])
            #expect(Self.leftovers().isEmpty, "left behind: \(Self.leftovers())")
            #expect(Self.processes(naming: directory).isEmpty, "still running: \(Self.processes(naming: directory))")
        }
    }
}
