import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the test bed's links carry, measured with iperf3 between its hosts' namespaces, so the
/// file system's figures can be set beside what the links (and the machine's cores, which also
/// move these bytes) allow. Data flows from storage hosts to client hosts (`-R`), as in a read.
///
/// With several paths per storage host, "from every storage host" means from every path of each,
/// each stream between the addresses the file system's own traffic uses (storage path p to the
/// client link the bed pairs with it), so the bound of one client is all of its links.
struct BenchPaperLinkBound {
    var state: TestbedState
    var seconds: Int
    var log: (String) -> Void

    static let basePort = 5301

    /// One client from one storage host; one client from every storage host at once; every
    /// client from every storage host at once.
    func measure(clients: Int) async throws -> [BenchPaperReport.LinkBound] {
        guard BenchFSSystem.isInstalled("iperf3") else { throw CLIError("iperf3 is not installed (Debian's iperf3)") }
        let storage = state.plan.hosts(.storage)
        let clientHosts = Array(state.plan.hosts(.client).prefix(clients))
        // A server per client host on every storage host: iperf3 serves one test at a time.
        var servers: [pid_t] = []
        let result: Result<[BenchPaperReport.LinkBound], any Error>
        do {
            for host in storage {
                for client in clientHosts.indices {
                    for address in host.addresses {
                        let command = TestbedNetwork.command(in: host, ["iperf3", "-s", "-B", address, "-p", "\(Self.basePort + client)"])
                        servers.append(try BenchFSSystem.start(command[0], Array(command.dropFirst()), logPath: "/dev/null"))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            result = .success(try await measure(clientHosts: clientHosts, storage: storage))
        } catch {
            result = .failure(error)
        }
        await BackgroundProcess.stop(servers, grace: .seconds(2))
        let bounds = try result.get()
        for bound in bounds {
            log("  iperf3 \(bound.description): \(BenchPaperReport.format(bound.megabytesPerSecond)) MB/s")
        }
        return bounds
    }

    private func measure(clientHosts: [TestbedPlan.Host], storage: [TestbedPlan.Host]) async throws -> [BenchPaperReport.LinkBound] {
        var bounds: [BenchPaperReport.LinkBound] = []
        let single = try await streams([Stream(client: clientHosts[0], port: 0, storage: storage[0], path: 0)])
        bounds.append(.init(description: "\(clientHosts[0].name) from \(storage[0].name) (one link)", streams: 1, megabytesPerSecond: single))
        let everyPath = 0..<state.plan.paths
        let paths = everyPath.count > 1 ? ", every path" : ""
        let fromAll = try await streams(storage.flatMap { host in everyPath.map { Stream(client: clientHosts[0], port: 0, storage: host, path: $0) } })
        bounds.append(.init(
            description: "\(clientHosts[0].name) from every storage host\(paths)", streams: storage.count * everyPath.count, megabytesPerSecond: fromAll))
        if clientHosts.count > 1 {
            let pairs = clientHosts.indices.flatMap { client in
                storage.flatMap { host in everyPath.map { Stream(client: clientHosts[client], port: client, storage: host, path: $0) } }
            }
            let everyone = try await streams(pairs)
            bounds.append(.init(description: "\(clientHosts.count) clients from every storage host\(paths)", streams: pairs.count, megabytesPerSecond: everyone))
        }
        return bounds
    }

    /// One iperf3 stream: from storage path `path` of `storage` to the link of `client` paired with it.
    private struct Stream {
        var client: TestbedPlan.Host
        var port: Int
        var storage: TestbedPlan.Host
        var path: Int

    }

    /// Runs the streams at once; returns the MB/s they carried together.
    private func streams(_ pairs: [Stream]) async throws -> Double {
        var running: [(pid: pid_t, output: String)] = []
        for (index, pair) in pairs.enumerated() {
            let output = "\(NSTemporaryDirectory())/radonfs-paper-iperf-\(getpid())-\(index).json"
            unlink(output)
            let command = TestbedNetwork.command(in: pair.client, [
                "iperf3", "-c", pair.storage.addresses[pair.path], "-p", "\(Self.basePort + pair.port)",
                "-B", state.plan.link(of: pair.client, carrying: pair.path).address,
                "-R", "-t", "\(seconds)", "-J", "--logfile", output,
            ])
            running.append((try BenchFSSystem.start(command[0], Array(command.dropFirst()), logPath: "/dev/null"), output))
        }
        var total = 0.0
        for stream in running {
            let status = await BenchFSSystem.waitForExit(stream.pid)
            defer { unlink(stream.output) }
            let text = (try? String(contentsOfFile: stream.output, encoding: .utf8)) ?? ""
            guard status == 0 else { throw CLIError("iperf3 failed (status \(status)): \(text.suffix(400))") }
            total += try Self.receivedMegabytesPerSecond(json: text)
        }
        return total
    }

    /// `end.sum_received.bits_per_second` of an iperf3 `-J` report, in MB/s.
    static func receivedMegabytesPerSecond(json: String) throws -> Double {
        struct Report: Decodable {
            struct End: Decodable {
                struct Sum: Decodable { var bits_per_second: Double }
                var sum_received: Sum
            }
            var end: End
        }
        do {
            return try JSONDecoder().decode(Report.self, from: Data(json.utf8)).end.sum_received.bits_per_second / 8 / 1e6
        } catch {
            throw CLIError("cannot read iperf3's report: \(error)")
        }
    }
}
