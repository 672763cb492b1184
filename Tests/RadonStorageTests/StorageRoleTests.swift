import Foundation
import Logging
import RadonStorage
import RadonTestSupport
import RadonWire
import Testing

/// The storage daemon's role table with real certificates: who may delete fragments, list a
/// node's files, or write them.
@Suite("Storage daemon roles")
struct StorageRoleTests {
    @Test func onlyTheMetadataServiceAnAdminOrTheNodeItselfDeletesFragments() async throws {
        try await withTestCertificates { certificates in
            let directory = temporaryDirectory("storage-roles")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var logger = Logger(label: "test.storage")
            logger.logLevel = .error
            let daemon = try await StorageDaemon.start(
                .init(directory: directory, listen: WireAddress(host: "127.0.0.1", port: 0), credentials: try certificates.credentials("storage-0", .storage)),
                logger: logger)
            func storage(_ name: String, _ role: WireRoles) async throws -> StorageClient {
                StorageClient(connection: try await WireConnection.connect(to: daemon.address, credentials: try certificates.credentials(name, role)))
            }
            let client = try await storage("laptop", .client)
            // A client writes and reads fragments...
            try await client.writeFragments(group: 1, inode: 7, fragmentIndex: 0, fragmentCapacity: 8, slots: [(blockIndex: 0, version: 1, effectiveLength: 8, bytes: Array(repeating: 1, count: 8))])
            #expect(try await client.readFragments(group: 1, inode: 7, fragmentIndex: 0, blockIndices: [0]).count == 1)
            // ...but cannot delete a file's fragments, nor list the node's groups.
            for attempt in [{ _ = try await client.deleteFile(group: 1, inode: 7) }, { _ = try await client.listGroups() }] as [@Sendable () async throws -> Void] {
                do {
                    try await attempt()
                    Issue.record("a client's certificate was allowed an operator's request")
                } catch let error as WireError {
                    #expect(error.status == .permissionDenied)
                }
            }
            // Another storage daemon cannot delete here either.
            let neighbour = try await storage("storage-1", .storage)
            await #expect(throws: WireError.self) { _ = try await neighbour.deleteFile(group: 1, inode: 7) }
            #expect(try await neighbour.listGroups() == [1])
            // The metadata service, an operator and the node itself can.
            #expect(try await storage("meta", .meta).deleteFile(group: 1, inode: 7) == 1)
            try await client.writeFragments(group: 1, inode: 8, fragmentIndex: 0, fragmentCapacity: 8, slots: [(blockIndex: 0, version: 1, effectiveLength: 8, bytes: Array(repeating: 2, count: 8))])
            #expect(try await storage("operator", .admin).deleteFile(group: 1, inode: 8) == 1)
            try await client.writeFragments(group: 1, inode: 9, fragmentIndex: 0, fragmentCapacity: 8, slots: [(blockIndex: 0, version: 1, effectiveLength: 8, bytes: Array(repeating: 3, count: 8))])
            #expect(try await storage("storage-0", .storage).deleteFile(group: 1, inode: 9) == 1)
            await daemon.stop()
        }
    }
}
