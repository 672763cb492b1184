import Foundation
import Logging
import RadonMeta
import RadonTestSupport
import RadonWire
import Testing

/// The metadata service's role table with real certificates over TLS: clients use the
/// namespace but cannot change the cluster; storage daemons register but cannot touch the
/// namespace; an `identified` envelope is judged by what it carries.
@Suite("Metadata service roles")
struct MetaRoleTests {
    @Test func eachRoleReachesOnlyItsOwnRequests() async throws {
        try await withTestCertificates { certificates in
            let (server, fixture) = try await startServiceOverTLS(.sqlite, certificates)
            func meta(_ name: String, _ role: WireRoles) async throws -> MetaClient {
                MetaClient(connection: try await WireConnection.connect(to: server.localAddress, credentials: try certificates.credentials(name, role)))
            }
            func expectRefused(_ what: String, _ call: () async throws -> Void) async {
                do {
                    try await call()
                    Issue.record("\(what) was allowed")
                } catch let error as WireError {
                    #expect(error.status == .permissionDenied, "\(what): \(error)")
                } catch let error as FileSystemError {
                    #expect(error.errno == EACCES, "\(what): \(error)")
                } catch {
                    Issue.record("\(what): \(error)")
                }
            }
            let volume = VolumeSpecification(name: "v", k: 2, n: 3, groupCount: 1)
            let node = RegisterNodeRequest(uuid: UUID().uuidString, address: WireAddress(host: "127.0.0.1", port: 1), hostID: "h",
                                           dataDirectory: "/x", pid: 1, capacity: 0, free: 0)

            let admin = try await meta("operator", .admin)
            let client = try await meta("laptop", .client)
            await expectRefused("a client certificate without an export") { _ = try await client.attributes(of: 1) }
            _ = try await admin.addExport(ExportRule(name: "laptop", path: "/"))
            _ = try await client.attributes(of: 1)
            _ = try await client.status()
            await expectRefused("a client's createVolume") { _ = try await client.createVolume(volume) }
            await expectRefused("a client's registerNode") { _ = try await client.registerNode(node) }
            // The same requests inside an `identified` envelope (as MetaFailover sends mutations).
            let connection = try await WireConnection.connect(to: server.localAddress, credentials: try certificates.credentials("laptop", .client))
            let envelope = IdentifiedRequest(identity: MetaRequestIdentity(client: 1, sequence: 1), isRetry: false,
                                             opcode: MetaOpcode.createVolume.rawValue, payload: volume.encoded())
            await expectRefused("an enveloped createVolume") {
                _ = try await connection.call(opcode: MetaOpcode.identified.rawValue, payload: envelope.encoded())
            }

            let storage = try await meta("storage-0", .storage)
            _ = try await storage.registerNode(node)
            await expectRefused("a storage daemon's getattr") { _ = try await storage.attributes(of: 1) }

            _ = try await admin.attributes(of: 1)
            await #expect(throws: WireError.self) { _ = try await admin.createVolume(volume) }  // allowed, but one host is too few
            do {
                _ = try await admin.createVolume(volume)
            } catch let error as WireError {
                #expect(error.status != .permissionDenied)
            }
            connection.close()
            try await server.close()
            withExtendedLifetime(fixture) {}

        }
    }
}
