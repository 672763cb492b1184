import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs testbed` for real: 6 storage hosts, a metadata host and 2 client hosts, each a
/// network namespace on a bridge with tbf-capped links. A file written through one client
/// host's mount reads back byte for byte through the other's; every daemon listens on its own
/// host's address only; `testbed down` leaves no namespace, bridge, link or mount behind.
@Suite(.serialized)
struct TestbedTests {
    static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: RadonBinary.path)
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")

    @discardableResult
    static func radonfs(_ arguments: [String]) throws -> String {
        try RadonBinary.run(arguments)
    }

    static func leftovers() -> [String] {
        let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix("radonbed-") }
        let links = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
            .filter { $0 == "radonbed0" || $0.range(of: "^rb[msc][0-9]+p[0-9]+[hn]$", options: .regularExpression) != nil }
        return namespaces + links
    }

    static func mounts(under directory: String) -> [String] {
        let table = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        let points: [String] = table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 ? String(fields[1]) : nil
        }
        return points.filter { $0.hasPrefix(directory) }
    }

    @Test(.enabled(if: canRun, "needs root, nsenter and the radonfs binary of this build"), .timeLimit(.minutes(3)))
    func clientsShareFilesAndDaemonsListenOnlyOnTheirHostAddress() async throws {
        try #require(Self.leftovers().isEmpty, "a test bed is already up on this machine: \(Self.leftovers())")
        let directory = "/tmp/radonfs-testbed-test-\(UUID().uuidString.prefix(8))"
        defer {
            _ = try? Self.radonfs(["testbed", "down", "--dir", directory, "--grace", "3"])
            try? FileManager.default.removeItem(atPath: directory)
        }
        try Self.radonfs(["testbed", "up", "--dir", directory, "--storage-hosts", "6", "--clients", "2", "--layout", "4+2", "--block-size", "64KiB"])

        // Written on client0's mount, read back on client1's (close-to-open: client1 opens after client0 closed).
        let bytes = patternBytes(count: 3 << 20 + 12_345, seed: 13)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/mnt/client0/shared.bin"))
        let read = try #require(FileManager.default.contents(atPath: "\(directory)/mnt/client1/shared.bin"))
        #expect(sha256(Array(read)) == sha256(bytes), "client1 read other bytes than client0 wrote")
        // And the other way round.
        let reversed = Array(bytes.reversed())
        try Data(reversed).write(to: URL(fileURLWithPath: "\(directory)/mnt/client1/back.bin"))
        let back = try #require(FileManager.default.contents(atPath: "\(directory)/mnt/client0/back.bin"))
        #expect(sha256(Array(back)) == sha256(reversed), "client0 read other bytes than client1 wrote")

        // Each host's listening sockets are on its own address, none on a wildcard or loopback.
        let expected = [("meta0", "10.214.1.2")] + (0..<6).map { ("storage\($0)", "10.214.10.\($0 + 2)") }
        for (host, address) in expected {
            let listening = try Self.radonfs(["testbed", "run", host, "--dir", directory, "--", "ss", "-ltnH"])
            let locals = listening.split(separator: "\n").compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first }
            #expect(!locals.isEmpty, "nothing listens on \(host)")
            for local in locals {
                #expect(local.hasPrefix("\(address):"), "\(host) listens on \(local), not only on \(address)")
            }
        }
        // And the machine's own loopback reaches none of them.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var loopback = sockaddr_in()
        loopback.sin_family = sa_family_t(AF_INET)
        loopback.sin_port = in_port_t(7400).bigEndian
        loopback.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &loopback) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected != 0, "something answers on 127.0.0.1:7400")

        // The CLI reaches the cluster from the host, over the bridge.
        let status = try Self.radonfs(["status", "--dir", directory])
        #expect(status.contains("10.214.10.2:7500"), "status does not list storage0's address:\n\(status)")

        try Self.radonfs(["testbed", "down", "--dir", directory, "--grace", "5"])
        #expect(Self.leftovers().isEmpty, "left behind: \(Self.leftovers())")
        #expect(Self.mounts(under: directory).isEmpty, "still mounted: \(Self.mounts(under: directory))")
        // A second down (as after a crash) finds nothing to do and succeeds.
        try Self.radonfs(["testbed", "down", "--dir", directory])
    }
}
