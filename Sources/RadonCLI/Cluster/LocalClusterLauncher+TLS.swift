import Foundation
import RadonWire

/// The TLS material of a local cluster: a CA under DIR/tls and a certificate for every process
/// `up` starts (`meta`, `meta-N`, `storage-N`, the mount's `client`) and for the CLI (`admin`).
extension LocalClusterLauncher {
    /// Makes what is missing of the cluster's TLS directory and returns it; nil for a plaintext
    /// cluster. A cluster keeps the choice it was made with: `--insecure` cannot turn TLS off
    /// (its processes hold certificates), and one made plaintext stays so until remade.
    func prepareTLS(previous: LocalClusterState?, nodeCount: Int) throws -> String? {
        if let previous {
            if previous.tlsDirectory != nil, insecure {
                throw CLIError("the cluster in \(directory) was made with mutual TLS; --insecure applies to a new cluster only")
            }
            guard previous.tlsDirectory != nil else { return nil }
        } else if insecure {
            return nil
        }
        let tls = TLSDirectory("\(directory)/tls")
        do {
            let authority = FileManager.default.fileExists(atPath: tls.authorityCertificate)
                ? try ClusterAuthority(directory: tls)
                : try ClusterAuthority.create(in: tls, clusterName: URL(fileURLWithPath: directory).lastPathComponent)
            let metaCount = max(metaServers ?? previous.map { $0.metas.count } ?? 2, 2)
            var identities: [(String, WireRoles)] = [(LocalClusterState.adminIdentity, .admin), (LocalClusterState.clientIdentity, .client)]
            identities += (0..<metaCount).map { (Self.metaName($0), .meta) }
            identities += (0..<nodeCount).map { ("storage-\($0)", .storage) }
            for (name, role) in identities {
                try authority.issueUnlessPresent(name: name, role: role)
            }
        } catch {
            throw CLIError("cannot prepare the cluster's TLS files in \(tls.path): \(error)")
        }
        return tls.path
    }

    /// Issues `name` a certificate for `role` in the cluster's TLS directory unless it has one
    /// (nothing for a plaintext cluster): processes started beside `up`'s own (bench spares).
    func issueIfMissing(name: String, role: WireRoles, tlsDirectory: String?) throws {
        guard let tlsDirectory else { return }
        do {
            try ClusterAuthority(directory: TLSDirectory(tlsDirectory)).issueUnlessPresent(name: name, role: role)
        } catch {
            throw CLIError("cannot issue a certificate for \(name) in \(tlsDirectory): \(error)")
        }
    }
}
