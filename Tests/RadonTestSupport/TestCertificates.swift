import Foundation
import RadonWire

/// A cluster CA in a fresh temporary directory and identities issued by it, for the TLS tests.
public struct TestCertificates: Sendable {
    public let directory: TLSDirectory
    public let authority: ClusterAuthority

    public init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("radonfs-tls-\(UUID().uuidString)").path
        directory = TLSDirectory(path)
        authority = try ClusterAuthority.create(in: directory, clusterName: "test")
    }

    /// Issues `name` a certificate for `role` and loads it as credentials.
    public func credentials(_ name: String, _ role: WireRoles) throws -> WireCredentials {
        try authority.issue(name: name, role: role)
        return .mutualTLS(try WireTLSIdentity(directory: directory, name: name))
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory.path)
    }
}

/// Runs `body` with a fresh CA and removes its directory afterwards.
public func withTestCertificates(_ body: (TestCertificates) async throws -> Void) async throws {
    let certificates = try TestCertificates()
    defer { certificates.remove() }
    try await body(certificates)
}
