import Foundation
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A cluster deployed the way the README's "Deploy on several machines" says: a CA and
/// certificates from `radonfs ca init` / `radonfs cert issue`, every daemon and verb started with
/// `--config FILE` only, the metadata service listening on 0.0.0.0 and advertising the one
/// address the others reach it at, and a storage daemon in a network namespace that listens on
/// its namespace address alone.
@Suite(.serialized) struct DeployedClusterTests {
    @Test("daemons started from config files serve a file across a network namespace; a command-line flag overrides the file",
          .enabled(if: getuid() == 0, "network namespaces need root"), .timeLimit(.minutes(5)))
    func configFileCluster() async throws {
        let namespace = try NetworkNamespace()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-deploy-\(UUID().uuidString.prefix(8))").path
        var pids: [Int32] = []
        defer {
            for pid in pids { kill(pid, SIGTERM) }
            for pid in pids { LocalProcess.waitUntilGone(pid, polls: 1000) }
            for pid in pids { LocalProcess.killAndWait(pid, polls: 300) }
            namespace.remove()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let etc = "\(directory)/etc"
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)

        // The CA and one certificate per process, as an operator makes them.
        let ca = "\(directory)/ca"
        try Self.radonfs(["ca", "init", "--dir", ca])
        for (name, role) in [("meta", "meta"), ("storage-0", "storage"), ("storage-1", "storage"), ("storage-2", "storage"), ("admin", "admin"), ("client", "client")] {
            try Self.radonfs(["cert", "issue", "--dir", ca, "--role", role, "--out", "\(directory)/tls", name])
        }

        // The metadata service: every address, advertising the host side of the veth link (the
        // one address both the host and the namespace reach).
        let metaPort = try TCPPort.free(host: "0.0.0.0")
        let advertised = "\(namespace.hostAddress):\(metaPort)"
        try Self.write("\(etc)/meta.toml", """
            db = "\(directory)/meta/meta.db"
            listen = "0.0.0.0:\(metaPort)"
            advertise = "\(advertised)"
            tls-dir = "\(directory)/tls"
            identity = "meta"
            port-file = "\(directory)/meta.port"
            no-metrics = true
            no-console = true
            """)
        let meta = try LocalProcess.spawn([RadonBinary.path, "meta", "--config", "\(etc)/meta.toml"], log: "\(directory)/logs/meta.log", environment: [:])
        pids.append(meta)
        _ = try await LocalProcess.waitForPort("\(directory)/meta.port", pid: meta)
        #expect(try String(contentsOfFile: "\(directory)/meta.port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == advertised)

        // Two storage daemons on loopback, one in the namespace on its own address only. The
        // last one's file names a host id the command line overrides.
        for index in 0..<3 {
            let inNamespace = index == 2
            let data = "\(directory)/storage-\(index)"
            try Self.write("\(etc)/storage-\(index).toml", """
                dir = "\(data)"
                listen = "\(inNamespace ? namespace.namespaceAddress : "127.0.0.1"):0"
                meta = ["\(advertised)"]
                tls-dir = "\(directory)/tls"
                identity = "storage-\(index)"
                host-id = "host-\(index)"
                port-file = "\(data).port"
                heartbeat = 1
                no-metrics = true
                """)
            var command = [RadonBinary.path, "storage", "--config", "\(etc)/storage-\(index).toml"]
            if inNamespace { command = namespace.command(command + ["--host-id", "host-in-namespace"]) }
            let pid = try LocalProcess.spawn(command, log: "\(directory)/logs/storage-\(index).log", environment: [:])
            pids.append(pid)
            _ = try await LocalProcess.waitForPort("\(data).port", pid: pid)
        }

        // The admin and client verbs from config files too, through the advertised address.
        try Self.write("\(etc)/admin.toml", "meta = [\"\(advertised)\"]\ntls-dir = \"\(directory)/tls\"\nidentity = \"admin\"\n")
        try Self.write("\(etc)/client.toml", "meta = [\"\(advertised)\"]\ntls-dir = \"\(directory)/tls\"\nidentity = \"client\"\n")
        var status = Status()
        try await poll("3 storage nodes up", timeout: .seconds(60)) {
            status = try Self.status(config: "\(etc)/admin.toml")
            return status.nodes.filter { $0.state == "up" }.count == 3
        }
        #expect(status.metaServer == advertised)
        let namespaced = try #require(status.nodes.first { $0.address.hasPrefix(namespace.namespaceAddress + ":") },
                                      "no node at \(namespace.namespaceAddress): \(status.nodes.map(\.address))")
        #expect(namespaced.host == "host-in-namespace", "the command line's --host-id must override the file's")
        #expect(Set(status.nodes.map(\.host)) == ["host-0", "host-1", "host-in-namespace"])
        let table = try Self.radonfs(["status", "--config", "\(etc)/admin.toml"])
        #expect(table.contains("Answered by the metadata server at \(advertised)"), "\(table)")

        try Self.radonfs(["volume", "create", "default", "--layout", "2+1", "--block-size", "64KiB", "--groups", "4", "--config", "\(etc)/admin.toml"])
        try await poll("the placement groups", timeout: .seconds(60)) {
            try !Self.status(config: "\(etc)/admin.toml").groups.isEmpty
        }

        try Self.radonfs(["export", "add", "client", "/", "--config", "\(etc)/admin.toml"])

        // A file of several blocks: every block has a fragment on the namespaced node.
        let bytes = patternBytes(count: 300_000, seed: 13)
        let local = "\(directory)/in.bin"
        let back = "\(directory)/out.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: local))
        try Self.radonfs(["put", local, "/deployed.bin", "--config", "\(etc)/client.toml"])
        try Self.radonfs(["get", "/deployed.bin", back, "--config", "\(etc)/client.toml"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(bytes))
        let fragments = try FileManager.default.subpathsOfDirectory(atPath: "\(directory)/storage-2").filter { $0.contains(".") }
        #expect(!fragments.isEmpty, "the namespaced node holds no fragment")

        let log = try String(contentsOfFile: "\(directory)/logs/meta.log", encoding: .utf8)
        #expect(log.contains("address=\(advertised)"), "the meta log does not name its advertised address")
    }

    /// What `radonfs status --json` reports, the parts read here.
    struct Status: Decodable {
        struct Node: Decodable { var address: String; var state: String; var host: String }
        struct Group: Decodable { var id: UInt32 }
        var nodes: [Node] = []
        var groups: [Group] = []
        var metaServer: String?
    }

    static func status(config: String) throws -> Status {
        try JSONDecoder().decode(Status.self, from: Data(radonfs(["status", "--json", "--config", config]).utf8))
    }

    /// Runs `radonfs` and waits; its output (stdout and stderr), or a failure carrying it.
    @discardableResult
    static func radonfs(_ arguments: [String]) throws -> String {
        try RadonBinary.run(arguments, outputPath: FileManager.default.temporaryDirectory
            .appendingPathComponent("radonfs-deploy-\(UUID().uuidString.prefix(8)).out").path)
    }

    static func write(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
