import Foundation
import RadonClient
import RadonMeta
import RadonTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Storage nodes with two network paths each (the paper's one storio per port): the registry
/// keeps every path, and a client reading while one path dies keeps going on the other.
@Suite(.serialized) struct MultipathTests {
    @Test("a node's extra addresses round-trip through the registry, its node list and its group map", arguments: TestEngine.all)
    func registryKeepsPaths(_ engine: TestEngine) async throws {
        let (store, path) = try await HealingCoordinatorTests.emptyStore(engine)
        defer { if !path.isEmpty { try? FileManager.default.removeItem(atPath: path) } }
        let extra = [WireAddress(host: "10.215.2.2", port: 7601), WireAddress(host: "fd00::2", port: 7602)]
        var ids: [UInt32] = []
        for index in 0..<6 {
            ids.append(try await store.registerNode(RegisterNodeRequest(
                uuid: "node-\(index)", address: WireAddress(host: "10.215.1.2", port: 7000 + index), hostID: "host-\(index)",
                dataDirectory: "/tmp/none", pid: 0, capacity: 1 << 40, free: 1 << 40, extraAddresses: index == 0 ? extra : [])).nodeID)
        }
        _ = try await store.createVolume(VolumeSpecification(name: "v", k: 4, n: 6, blockSize: 65536, groupCount: 2))
        let nodes = try await store.nodes()
        #expect(nodes.first { $0.id == ids[0] }?.extraAddresses == extra)
        #expect(nodes.first { $0.id == ids[1] }?.extraAddresses == [])
        // Through the wire encodings too: the extra addresses trail the node lists.
        let decodedNodes = try NodeListReply(decoding: NodeListReply(nodes).encoded()).nodes
        #expect(decodedNodes == nodes)
        let map = try await store.groupMap(volumeID: 0)
        #expect(map.nodes.first { $0.id == ids[0] }?.paths == [WireAddress(host: "10.215.1.2", port: 7000)] + extra)
        #expect(try GroupMap(decoding: map.encoded()) == map)
        let status = try await store.status()
        #expect(try ClusterStatus(decoding: status.encoded()).nodes.first { $0.id == ids[0] }?.extraAddresses == extra)
        // After the other trailing field of the status, the serving metadata server's name.
        var named = status
        named.metaServer = "meta-1"
        #expect(try ClusterStatus(decoding: named.encoded()) == named)

        // A new set of paths moves the map epoch (clients re-read the map for paths); the same one does not.
        let again = RegisterNodeRequest(
            uuid: "node-0", address: WireAddress(host: "10.215.1.2", port: 7000), hostID: "host-0",
            dataDirectory: "/tmp/none", pid: 0, capacity: 1 << 40, free: 1 << 40, extraAddresses: extra)
        let epoch = try await store.groupMap(volumeID: 0).epoch
        _ = try await store.registerNode(again)
        #expect(try await store.groupMap(volumeID: 0).epoch == epoch)
        var fewer = again
        fewer.extraAddresses = [extra[0]]
        _ = try await store.registerNode(fewer)
        #expect(try await store.groupMap(volumeID: 0).epoch > epoch)
        #expect(try await store.nodes().first { $0.id == ids[0] }?.extraAddresses == [extra[0]])
    }

    @Test("a request of a daemon from before extra addresses still decodes, and one with them is read by the same code")
    func registrationStaysCompatible() throws {
        let old = RegisterNodeRequest(uuid: "u", address: WireAddress(host: "h", port: 1), hostID: "x", dataDirectory: "/d", pid: 1, capacity: 2, free: 1)
        #expect(try RegisterNodeRequest(decoding: old.encoded()).extraAddresses == [])
        var new = old
        new.extraAddresses = [WireAddress(host: "h2", port: 2)]
        #expect(try RegisterNodeRequest(decoding: new.encoded()) == new)
    }

    /// Six storage daemons in one namespace joined to the host by two links, each daemon
    /// listening on and advertising both namespace addresses; the metadata service on the host.
    @Test("reading a file while one of the nodes' two links goes down completes with the right bytes, no error and no gap of a second; writes with that link down succeed")
    func readRidesThroughALinkDown() async throws {
        let namespace = try NetworkNamespace(addressPrefix: "10.215")
        defer { namespace.remove() }
        let secondSubnet = (Int(namespace.hostAddress.split(separator: ".")[2])! + 1) % 250 + 1
        let second = try NamespaceLink(to: namespace, addressPrefix: "10.215", subnet: secondSubnet)
        defer { second.remove() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-multipath-\(UUID().uuidString.prefix(8))").path
        var pids: [Int32] = []
        defer {
            for pid in pids { kill(pid, SIGKILL) }
            for pid in pids { LocalProcess.waitUntilGone(pid, polls: 300) }
            try? FileManager.default.removeItem(atPath: directory)
        }
        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        let keyFile = "\(directory)/cluster.key"
        try ClusterKey.generate().write(to: keyFile)
        // Long liveness timings: the heartbeats of the daemons may ride over the link that goes down.
        let environment = ["RADONFS_DOWN_AFTER": "600", "RADONFS_LOST_AFTER": "1200"]
        let metaPid = try LocalProcess.spawn([RadonBinary.path, "meta", "--db", "\(directory)/meta/meta.db", "--listen", "0.0.0.0:0",
                                              "--insecure", "--key-file", keyFile, "--port-file", "\(directory)/meta.port"],
                                             log: "\(directory)/logs/meta.log", environment: environment)
        pids.append(metaPid)
        let metaPort = try await LocalProcess.waitForPort("\(directory)/meta.port", pid: metaPid)
        for index in 0..<6 {
            let data = "\(directory)/storage/node-\(index)"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let arguments = [RadonBinary.path, "storage", "--dir", data, "--insecure", "--key-file", keyFile, "--host-id", "node-\(index)",
                             "--port-file", "\(data).port",
                             "--listen", "\(namespace.namespaceAddress):0", "--listen", "\(second.namespaceAddress):0",
                             "--meta", "\(namespace.hostAddress):\(metaPort),\(second.hostAddress):\(metaPort)"]
            let pid = try LocalProcess.spawn(namespace.command(arguments), log: "\(directory)/logs/storage-\(index).log", environment: environment)
            pids.append(pid)
            _ = try await LocalProcess.waitForPort("\(data).port", pid: pid)
        }
        let endpoint = ClusterEndpoint(metaAddress: WireAddress(host: "127.0.0.1", port: metaPort), credentials: .sharedKey(try ClusterKey(contentsOf: keyFile)))
        let (meta, metaPool) = try await endpoint.meta()
        defer { Task { await metaPool.closeAll() } }
        try await poll("six storage nodes up with two paths each", timeout: .seconds(60)) {
            let nodes = try await meta.nodes().filter { $0.state == .up }
            return nodes.count == 6 && nodes.allSatisfy { $0.extraAddresses.count == 1 }
        }
        let nodes = try await meta.nodes()
        #expect(nodes.allSatisfy { $0.address.host == namespace.namespaceAddress && $0.extraAddresses.first?.host == second.namespaceAddress })
        _ = try await meta.createVolume(VolumeSpecification(name: "default", codec: "mojette-systematic", k: 4, n: 6, blockSize: 1 << 20))

        let size = 48 << 20
        let bytes = patternBytes(count: size, seed: 215)
        let writer = try await endpoint.client()
        let inode = try await writer.writeFile(parent: 1, name: FileName("big"), bytes: bytes).inode
        await writer.close()

        // A fresh client (nothing cached) reads in 1 MiB requests; halfway, the first link (every
        // node's first address, the one layouts name) goes down. Packets vanish: nothing is refused.
        let reader = try await endpoint.client()
        defer { Task { await reader.close() } }
        let handle = try await reader.open(inode, flags: OpenFlags(read: true, write: false), context: .root)
        var result: [UInt8] = []
        result.reserveCapacity(size)
        var longestGap = Duration.zero
        var gapAfterCut = Duration.zero
        var cut: Task<Void, any Error>?
        var last = ContinuousClock.now
        while true {
            if cut == nil, result.count >= size / 2 {
                cut = Task { try namespace.setLink(up: false) }
                try await cut!.value
            }
            let chunk = try await reader.read(handle, offset: UInt64(result.count), count: 1 << 20)
            let now = ContinuousClock.now
            longestGap = max(longestGap, now - last)
            if cut != nil { gapAfterCut = max(gapAfterCut, now - last) }
            last = now
            if chunk.isEmpty { break }
            result += chunk
        }
        try? await reader.release(handle)
        #expect(cut != nil)
        #expect(result.count == size)
        #expect(result == bytes, "the bytes read differ from those written")
        // A correctness bound of the feature (no stall past a second), not a speed.
        #expect(longestGap < .seconds(1), "the longest gap between two read chunks was \(longestGap)")
        print("multipath read: \(size >> 20) MiB, first link down halfway, longest gap \(longestGap) (after the cut \(gapAfterCut))")

        // Writes ride through too: a fresh client starts with both paths live, so its first
        // fragment writes go to the dead one, go unanswered and are sent again on the other.
        let during = patternBytes(count: 8 << 20, seed: 216)
        let lateWriter = try await endpoint.client()
        let duringInode = try await lateWriter.writeFile(parent: 1, name: FileName("during-cut"), bytes: during).inode
        // So do truncates (every member is told to drop the cut blocks), over the path still up:
        // on the dead one alone they would fail after the 30 s write timeout, with EIO.
        let cutSize = (3 << 20) + 5
        let truncateStarted = ContinuousClock.now
        _ = try await lateWriter.setAttributes(of: duringInode, AttributeChanges(size: UInt64(cutSize)), handle: nil, context: .root)
        print("multipath truncate with the first link down: \(ContinuousClock.now - truncateStarted)")
        await lateWriter.close()

        // The path comes back: reads over both paths see both files.
        try namespace.setLink(up: true)
        let again = try await endpoint.client()
        defer { Task { await again.close() } }
        #expect(try await again.readFile(inode) == bytes)
        #expect(try await again.readFile(duringInode) == Array(during.prefix(cutSize)))
    }
}
