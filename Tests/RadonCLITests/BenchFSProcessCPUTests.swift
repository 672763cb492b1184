import Foundation
@testable import RadonCLI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The CPU accounting `bench fs` puts beside each sequential speed: processes found by their
/// parent, a busy one counted and an idle one not, and the table's rows with their verdict.
@Suite("bench fs: CPU seconds per GiB")
struct BenchFSProcessCPUTests {
    /// Starts `/bin/sh -c script` as a child of this process.
    private func spawn(_ script: String) throws -> pid_t {
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", script]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
        guard status == 0 else { throw CLIError("posix_spawn failed: \(status)") }
        return pid
    }

    private func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test func aBusyServingProcessIsCountedAndAnIdleOneIsNot() async throws {
        let busy = try spawn("while :; do :; done")
        let idle = try spawn("exec sleep 30")
        defer { stop(busy); stop(idle) }
        let children = BenchFSProcessCPU.processes { _, parent in parent == getpid() }
        #expect(Set(children).isSuperset(of: [busy, idle]), "children found by their parent: \(children)")

        let spinning = try await BenchFSProcessCPU.measuring({ [busy] }) { try await Task.sleep(for: .seconds(1)) }
        let cpu = try #require(spinning.cpuSeconds)
        // A loop that never sleeps gets a good share of a second even on a loaded machine.
        #expect(cpu > 0.1, "the busy loop used \(cpu) CPU s in a second")
        let sleeping = try await BenchFSProcessCPU.measuring({ [idle] }) { try await Task.sleep(for: .seconds(1)) }
        #expect(try #require(sleeping.cpuSeconds) < 0.05)
        let nobody = await BenchFSProcessCPU.measuring({ [] }) { 0 }
        #expect(nobody.cpuSeconds == nil, "no serving process: no figure, rather than a zero")
    }

    @Test func aProcessBornDuringTheJobCountsWhole() async throws {
        var born: pid_t?
        defer { born.map(stop) }
        let measured = try await BenchFSProcessCPU.measuring({ born.map { [$0] } ?? [] }) {
            born = try spawn("while :; do :; done")
            try await Task.sleep(for: .seconds(1))
        }
        #expect(try #require(measured.cpuSeconds) > 0.1)
    }

    @Test func theTableShowsCPUPerGiBWithTheGoalAgainstGlusterFS() {
        var radonFS = BenchFSReport.TargetResult(key: "radonfs", title: "RadonFS 4+2")
        radonFS.cpuMedians = ["seq-write": 1.5, "seq-read": 3.0]
        var glusterFS = BenchFSReport.TargetResult(key: "glusterfs", title: "GlusterFS 4+2")
        glusterFS.cpuMedians = ["seq-write": 3.0, "seq-read": 2.0]
        let report = BenchFSReport.compared([radonFS, glusterFS])
        let lines = BenchFSTable.render(report).split(separator: "\n")
        let write = try? #require(lines.first { $0.hasPrefix("seq write CPU") })
        let read = try? #require(lines.first { $0.hasPrefix("seq read CPU") })
        #expect(write?.contains("0.50x") == true && write?.contains("ok") == true, "\(write ?? "")")
        #expect(read?.contains("1.50x") == true && read?.contains("MISS") == true, "\(read ?? "")")
    }
}
