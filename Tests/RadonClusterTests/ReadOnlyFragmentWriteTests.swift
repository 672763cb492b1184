import Foundation
import RadonTestSupport
import RadonWire
import Testing

/// A read-only export holds on the storage daemons too: a client certificate exported
/// read-only that skips the metadata service and writes fragments itself is refused by every
/// daemon (they hear the read-only names with each heartbeat), while it may still read and a
/// read-write client still writes.
@Suite("Read-only exports on the storage daemons")
struct ReadOnlyFragmentWriteTests {
    @Test func aReadOnlyClientCannotWriteFragmentsDirectly() async throws {
        try await LocalCluster.with(directoryPrefix: "radonfs-ro-fragments", nodes: 3, layout: "2+1") { cluster in
            let state = try cluster.state()
            let tls = try #require(state.tlsDirectory)
            try cluster.run(["cert", "issue", "--dir", tls, "--role", "client", "reader"])
            try cluster.run(["cert", "issue", "--dir", tls, "--role", "client", "writer"])
            try cluster.run(["export", "add", "reader", "/", "--read-only", "--dir", cluster.directory])
            try cluster.run(["export", "add", "writer", "/", "--dir", cluster.directory])
            func storage(_ name: String, _ index: Int) async throws -> StorageClient {
                let address = try #require(WireAddress(state.storage[index].address))
                let credentials = WireCredentials.mutualTLS(try WireTLSIdentity(directory: TLSDirectory(tls), name: name))
                return StorageClient(connection: try await WireConnection.connect(to: address, credentials: credentials))
            }
            let slot: [(blockIndex: UInt64, version: UInt64, effectiveLength: UInt32, bytes: [UInt8])] =
                [(blockIndex: 0, version: 1, effectiveLength: 8, bytes: Array(repeating: 7, count: 8))]
            for index in state.storage.indices {
                let reader = try await storage("reader", index)
                // Every daemon hears of the export within a heartbeat or two.
                try await poll("daemon \(index) refusing the read-only client", timeout: .seconds(15)) {
                    do {
                        try await reader.writeFragments(group: 1, inode: 424_242, fragmentIndex: 0, fragmentCapacity: 8, slots: slot)
                        return false
                    } catch let error as WireError {
                        return error.status == .permissionDenied
                    }
                }
                await #expect(throws: WireError.self) { try await reader.truncate(group: 1, inode: 424_242, blockCount: 0) }
                _ = try await reader.readFragments(group: 1, inode: 424_242, fragmentIndex: 0, blockIndices: [0])
                let writer = try await storage("writer", index)
                try await writer.writeFragments(group: 1, inode: 424_243, fragmentIndex: 0, fragmentCapacity: 8, slots: slot)
            }
        }
    }
}
