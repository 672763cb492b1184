import NIOCore
import NIOSSL
import NIOTLS
import X509

/// This process's identity for mutual TLS: its certificate and key, the cluster CA as the only
/// trust root, and the revocation list. Built once per process (TLS contexts are costly), used
/// for every connection it serves and opens.
///
/// Both ends run TLS 1.3 only and require the other's certificate; hostnames are not checked
/// (daemons move between addresses; what a peer may do comes from its role, not its address).
/// After the handshake each end reads the other's certificate (`peer(presenting:)`): a revoked
/// serial or a certificate without a role is refused before any request is read.
public struct WireTLSIdentity: Sendable {
    /// The common name of this process's certificate.
    public let name: String
    /// The role of this process's certificate.
    public let roles: WireRoles
    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext
    private let revocations: CertificateRevocations

    /// Loads identity `name` from `directory` (`NAME.pem`, `NAME.key`, `ca.pem`, `revoked`).
    public init(directory: TLSDirectory, name: String) throws {
        let certificatePath = directory.certificate(of: name)
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        let authority: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            key = try NIOSSLPrivateKey(file: directory.privateKey(of: name), format: .pem)
            authority = try NIOSSLCertificate.fromPEMFile(directory.authorityCertificate)
        } catch {
            throw WireError(.invalidArgument, "cannot load TLS identity \"\(name)\" from \(directory.path) (\(certificatePath), its .key and ca.pem): \(error)")
        }
        guard let leaf = chain.first, !authority.isEmpty else {
            throw WireError(.invalidArgument, "\(certificatePath) or \(directory.authorityCertificate) holds no certificate")
        }
        revocations = CertificateRevocations(path: directory.revocations)
        let own = try Self.describe(leaf)
        guard own.name == name else {
            throw WireError(.invalidArgument, "\(certificatePath) was issued to \"\(own.name)\", not \"\(name)\"")
        }
        self.name = name
        self.roles = own.roles

        var server = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        Self.requireClusterPeers(&server, authority: authority)
        Self.requireClusterPeers(&client, authority: authority)
        do {
            serverContext = try NIOSSLContext(configuration: server)
            clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw WireError(.invalidArgument, "TLS identity \"\(name)\": \(error)")
        }
    }

    /// TLS 1.3 only, the cluster CA as the only root, the peer's certificate required (on a
    /// server too: verification other than `.none` makes NIOSSL demand the client's).
    private static func requireClusterPeers(_ configuration: inout TLSConfiguration, authority: [NIOSSLCertificate]) {
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(authority)
        configuration.certificateVerification = .noHostnameVerification
    }

    /// Who a verified peer certificate names, after the revocation check. Throws
    /// `.unauthorized` for a revoked certificate, one without exactly one known role, or none.
    func peer(presenting certificate: NIOSSLCertificate?) throws -> WirePeer {
        guard let certificate else { throw WireError(.unauthorized, "the peer presented no certificate") }
        let peer = try Self.describe(certificate)
        if revocations.isRevoked(serial: peer.serial) {
            throw WireError(.unauthorized, "the certificate of \(peer.name) (serial \(peer.serial)) is revoked")
        }
        return WirePeer(name: peer.name, roles: peer.roles)
    }

    /// The name, role and serial a certificate carries.
    static func describe(_ certificate: NIOSSLCertificate) throws -> (name: String, roles: WireRoles, serial: String) {
        let parsed: Certificate
        do {
            parsed = try Certificate(derEncoded: try certificate.toDERBytes())
        } catch {
            throw WireError(.unauthorized, "the peer's certificate cannot be parsed: \(error)")
        }
        let attributes = parsed.subject.flatMap { $0 }
        let commonNames = attributes.filter { $0.type == .RDNAttributeType.commonName }
        let units = attributes.filter { $0.type == .RDNAttributeType.organizationalUnitName }
        guard commonNames.count == 1, units.count == 1, let role = WireRoles(name: "\(units[0].value)") else {
            throw WireError(.unauthorized, "the certificate \(parsed.subject) does not name exactly one RadonFS role and name")
        }
        return ("\(commonNames[0].value)", role, parsed.serialNumber.hexString)
    }
}

extension WireCredentials {
    /// The other end of a mutual-TLS connection once `event` says its handshake completed:
    /// its verified, unrevoked identity, or why it is refused. Nil for any other event, and
    /// always with the shared key. Both ends of a connection call this from their handler.
    func peerAfterHandshake(_ event: Any, context: ChannelHandlerContext) -> Result<WirePeer, WireError>? {
        guard case .mutualTLS(let identity) = self, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent else {
            return nil
        }
        do {
            return .success(try identity.peer(presenting: try context.pipeline.syncOperations.nioSSL_peerCertificate()))
        } catch {
            return .failure(error as? WireError ?? WireError(.unauthorized, "\(error)"))
        }
    }
}
