import Foundation
import RadonClient
import RadonTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A cluster of one metadata service and storage daemons started one by one (not by `radonfs
/// up`, which puts everything on 127.0.0.1): the metadata service listens on every address so
/// a daemon in a network namespace reaches it over the veth link, and the last storage daemon
/// runs inside that namespace.
final class NetworkNamespaceCluster: HealingHarness, Sendable {
    let directory: String
    let namespace: NetworkNamespace
    let keyFile: String
    let metaPort: Int
    let metaPid: Int32
    /// Storage daemons in start order; the last one runs in the namespace.
    let storagePids: [Int32]
    let storageDirectories: [String]

    static let environment = ["RADONFS_DOWN_AFTER": "5", "RADONFS_LOST_AFTER": "600"]

    private init(directory: String, namespace: NetworkNamespace, keyFile: String, metaPort: Int, metaPid: Int32,
                 storagePids: [Int32], storageDirectories: [String]) {
        self.directory = directory
        self.namespace = namespace
        self.keyFile = keyFile
        self.metaPort = metaPort
        self.metaPid = metaPid
        self.storagePids = storagePids
        self.storageDirectories = storageDirectories
    }

    var namespacedPid: Int32 { storagePids.last! }

    /// Starts `hostNodes` storage daemons on loopback and one in a fresh network namespace (4+2,
    /// 64 KiB blocks), runs `body`, and always kills every process, deletes the namespace and
    /// removes the directory.
    static func with(hostNodes: Int, _ body: (NetworkNamespaceCluster) async throws -> Void) async throws {
        let namespace = try NetworkNamespace()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-netns-\(UUID().uuidString.prefix(8))").path
        var pids: [Int32] = []
        defer {
            for pid in pids { kill(pid, SIGKILL) }
            for pid in pids { LocalProcess.waitUntilGone(pid, polls: 300) }
            namespace.remove()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        let keyFile = "\(directory)/cluster.key"
        try ClusterKey.generate().write(to: keyFile)

        let metaPid = try LocalProcess.spawn([RadonBinary.path, "meta", "--db", "\(directory)/meta/meta.db", "--listen", "0.0.0.0:0",
                                 "--insecure", "--key-file", keyFile, "--port-file", "\(directory)/meta.port"], log: "\(directory)/logs/meta.log", environment: environment)
        pids.append(metaPid)
        let metaPort = try await LocalProcess.waitForPort("\(directory)/meta.port", pid: metaPid)

        var storagePids: [Int32] = []
        var storageDirectories: [String] = []
        for index in 0...hostNodes {
            let data = "\(directory)/storage/node-\(index)"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let inNamespace = index == hostNodes
            var arguments = [RadonBinary.path, "storage", "--dir", data, "--insecure", "--key-file", keyFile, "--host-id", "node-\(index)",
                             "--port-file", "\(data).port"]
            arguments += inNamespace
                ? ["--listen", "\(namespace.namespaceAddress):0", "--meta", "\(namespace.hostAddress):\(metaPort)"]
                : ["--listen", "127.0.0.1:0", "--meta", "127.0.0.1:\(metaPort)"]
            let pid = try LocalProcess.spawn(inNamespace ? namespace.command(arguments) : arguments, log: "\(directory)/logs/storage-\(index).log",
                                         environment: environment)
            pids.append(pid)
            storagePids.append(pid)
            storageDirectories.append(data)
            _ = try await LocalProcess.waitForPort("\(data).port", pid: pid)
        }
        let cluster = NetworkNamespaceCluster(
            directory: directory, namespace: namespace, keyFile: keyFile, metaPort: metaPort, metaPid: metaPid,
            storagePids: storagePids, storageDirectories: storageDirectories)
        try await cluster.wait("\(hostNodes + 1) storage nodes up", timeout: .seconds(60)) { meta in
            try await meta.nodes().filter { $0.state == .up }.count == hostNodes + 1
        }
        let (meta, pool) = try await cluster.meta()
        _ = try await meta.createVolume(VolumeSpecification(name: "default", codec: "mojette-systematic", k: 4, n: 6, blockSize: 64 << 10))
        await pool.closeAll()
        try await cluster.wait("the placement groups", timeout: .seconds(60)) { meta in
            try await !meta.status().groups.isEmpty
        }
        try await body(cluster)
    }

    var metaAddress: WireAddress { WireAddress(host: "127.0.0.1", port: metaPort) }

    /// The metadata service on loopback (it listens on every address) and the cluster key.
    var endpoint: ClusterEndpoint {
        get throws { ClusterEndpoint(metaAddress: metaAddress, credentials: .sharedKey(try ClusterKey(contentsOf: keyFile))) }
    }

    func meta() async throws -> (MetaClient, WireConnectionPool) {
        try await endpoint.meta()
    }

    func client() async throws -> RadonFileSystemClient {
        try await endpoint.client()
    }

    /// The node id of storage daemon `index` (matched by data directory).
    func nodeID(ofStorage index: Int) async throws -> UInt32 {
        let (meta, pool) = try await meta()
        defer { Task { await pool.closeAll() } }
        let path = storageDirectories[index]
        return try #require(try await meta.nodes().first { $0.dataDirectory == path }).id
    }

    func killStorage(_ index: Int) {
        LocalProcess.killAndWait(storagePids[index], polls: 300)
    }
}
