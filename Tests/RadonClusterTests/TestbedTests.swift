import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `radonfs testbed` for real: 6 storage hosts, a metadata host and 2 client hosts, each a
/// network namespace on a bridge with tbf-capped links. A file written through one client
/// host's mount reads back byte for byte through the other's; every daemon listens on its own
/// host's addresses only; `testbed down` leaves no namespace, bridge, link or mount behind.
///
/// The bed has two paths per storage host and two links per client host (`--paths 2
/// --client-paths 2`): the write and the read must each move bytes over both of the client's
/// links, so the routes that pair client link p with storage path p are in force; and a read
/// goes on, same bytes, when one of a storage host's paths goes down in the middle of it.
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

    /// What the host's end of a link has counted (`tx_bytes` there is what the namespace's end
    /// received), read from the machine's own namespace, where that end lives.
    static func counter(_ interface: String, _ name: String) throws -> Int {
        let text = try String(contentsOfFile: "/sys/class/net/\(interface)/statistics/\(name)", encoding: .utf8)
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), "\(interface) \(name): \(text)")
    }

    /// Bytes each of `client`'s two links carried toward the client (`received`) or from it, during `work`.
    static func bytesOnLinks(of client: Int, received: Bool, during work: () throws -> Void) throws -> [Int] {
        let interfaces = (0..<2).map { "rbc\(client)p\($0)h" }
        let name = received ? "tx_bytes" : "rx_bytes"
        let before = try interfaces.map { try counter($0, name) }
        try work()
        return try zip(interfaces, before).map { try counter($0, name) - $1 }
    }

    /// Runs `body` on a bed brought up (`testbed up --dir DIR` plus `arguments`) in a fresh
    /// directory named from `stem`; the bed goes down and the directory goes whatever happens.
    /// One bed runs per machine: refused while another is up.
    static func withBed(_ stem: String, _ arguments: [String], _ body: (String) async throws -> Void) async throws {
        try #require(leftovers().isEmpty, "a test bed is already up on this machine: \(leftovers())")
        let directory = "/tmp/\(stem)-\(UUID().uuidString.prefix(8))"
        defer {
            _ = try? radonfs(["testbed", "down", "--dir", directory, "--grace", "3"])
            try? FileManager.default.removeItem(atPath: directory)
        }
        try radonfs(["testbed", "up", "--dir", directory] + arguments)
        try await body(directory)
    }

    @Test(.enabled(if: canRun, "needs root, nsenter and the radonfs binary of this build"), .timeLimit(.minutes(3)))
    func clientsShareFilesAndDaemonsListenOnlyOnTheirHostAddress() async throws {
        try await Self.withBed("radonfs-testbed-test", [
            "--storage-hosts", "6", "--clients", "2", "--layout", "4+2", "--block-size", "64KiB", "--paths", "2", "--client-paths", "2",
        ]) { directory in

            // Written on client0's mount, read back on client1's (close-to-open: client1 opens after client0 closed).
            let bytes = patternBytes(count: 3 << 20 + 12_345, seed: 13)
            let sent = try Self.bytesOnLinks(of: 0, received: false) {
                try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/mnt/client0/shared.bin"))
            }
            var read = Data()
            let received = try Self.bytesOnLinks(of: 1, received: true) {
                read = try #require(FileManager.default.contents(atPath: "\(directory)/mnt/client1/shared.bin"))
            }
            #expect(sha256(Array(read)) == sha256(bytes), "client1 read other bytes than client0 wrote")
            // Each link carries about half of the fragments (4+2: 1.5 times the file written, at
            // least the file read); an eighth of the file on each is far from "nothing on one".
            for (link, count) in sent.enumerated() {
                #expect(count > bytes.count / 8, "client0's link \(link) sent \(count) bytes of a \(bytes.count)-byte write (both links: \(sent))")
            }
            for (link, count) in received.enumerated() {
                #expect(count > bytes.count / 8, "client1's link \(link) received \(count) bytes of a \(bytes.count)-byte read (both links: \(received))")
            }
            // And the other way round.
            let reversed = Array(bytes.reversed())
            try Data(reversed).write(to: URL(fileURLWithPath: "\(directory)/mnt/client1/back.bin"))
            let back = try #require(FileManager.default.contents(atPath: "\(directory)/mnt/client0/back.bin"))
            #expect(sha256(Array(back)) == sha256(reversed), "client0 read other bytes than client1 wrote")

            // Each host's listening sockets are on its own addresses, none on a wildcard or loopback.
            let expected = [("meta0", ["10.214.1.2"])] + (0..<6).map { ("storage\($0)", ["10.214.10.\($0 + 2)", "10.214.11.\($0 + 2)"]) }
            for (host, addresses) in expected {
                let listening = try Self.radonfs(["testbed", "run", host, "--dir", directory, "--", "ss", "-ltnH"])
                let locals = listening.split(separator: "\n").compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first }
                #expect(!locals.isEmpty, "nothing listens on \(host)")
                for local in locals {
                    #expect(addresses.contains { local.hasPrefix("\($0):") }, "\(host) listens on \(local), not only on \(addresses)")
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

            // One path of a storage host taken down mid-read (packets vanish there; nothing is
            // refused): the read goes on over the host's other path, same bytes, no error.
            let film = patternBytes(count: 12 << 20, seed: 14)
            try Data(film).write(to: URL(fileURLWithPath: "\(directory)/mnt/client1/film.bin"))
            let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(directory)/mnt/client0/film.bin"))
            defer { try? reader.close() }
            var watched = Data()
            var longestGap = Duration.zero
            var cut = false
            var last = ContinuousClock.now
            while true {
                if !cut, watched.count >= film.count / 2 {
                    let down = try LocalProcess.output("/usr/sbin/ip", ["-n", "radonbed-storage0", "link", "set", "rbs0p0n", "down"])
                    try #require(down.status == 0, "ip link set down: \(down.text)")
                    cut = true
                }
                // nil at the end of the file; a failed read throws.
                let chunk = try reader.read(upToCount: 1 << 20)
                let now = ContinuousClock.now
                if cut { longestGap = max(longestGap, now - last) }
                last = now
                guard let chunk, !chunk.isEmpty else { break }
                watched += chunk
            }
            let up = try LocalProcess.output("/usr/sbin/ip", ["-n", "radonbed-storage0", "link", "set", "rbs0p0n", "up"])
            #expect(up.status == 0, "ip link set up: \(up.text)")
            #expect(cut)
            #expect(sha256(Array(watched)) == sha256(film), "the read with storage0's first path down gave other bytes")
            print("test bed: storage0's first path down mid-read, longest gap after the cut \(longestGap)")
            // The router leaves a silent path after 0.4 s (up to 1 s on a loaded node). Without it the
            // read would still succeed, around storage0 after the client's 2 s hedge: the bound
            // sits below that, so the test fails if the other path was not used.
            #expect(longestGap < .milliseconds(1800), "the read stalled \(longestGap) after the cut")

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
}
