import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority: one P-256 key whose self-signed certificate is the only
/// trust root of every RadonFS connection. It issues each daemon, client and operator a
/// certificate naming its role (subject OU) and name (subject CN), and revokes them.
///
/// Invariants: an issued certificate is a leaf (not a CA) usable for both TLS client and server
/// authentication, with a fresh random 20-byte serial; its role is exactly one of `WireRoles.names`.
public struct ClusterAuthority: Sendable {
    public let directory: TLSDirectory
    private let certificate: Certificate
    private let privateKey: Certificate.PrivateKey

    /// How long issued certificates last unless told otherwise: rotation is re-issuing.
    public static let defaultValidity: Duration = .seconds(365 * 24 * 3600)
    /// Certificates are valid from an hour ago, for hosts whose clocks lag a little.
    static let clockSkew: TimeInterval = 3600

    /// Loads the authority of `directory` (its `ca.pem` and `ca.key`).
    public init(directory: TLSDirectory) throws {
        self.directory = directory
        certificate = try TLSDirectory.readPEM(directory.authorityCertificate, what: "the CA certificate", Certificate.init(pemEncoded:))
        privateKey = try TLSDirectory.readPEM(directory.authorityKey, what: "the CA key", Certificate.PrivateKey.init(pemEncoded:))
        guard certificate.publicKey == privateKey.publicKey else {
            throw WireError(.invalidArgument, "\(directory.authorityKey) is not the key of \(directory.authorityCertificate)")
        }
    }

    /// Makes a new authority in `directory` (created 0700). Refuses to replace an existing one:
    /// every certificate it signed would stop working.
    @discardableResult
    public static func create(in directory: TLSDirectory, clusterName: String = "radonfs") throws -> ClusterAuthority {
        try PrivateState.makeDirectory(directory.path)
        guard !FileManager.default.fileExists(atPath: directory.authorityCertificate) else {
            throw WireError(.exists, "\(directory.authorityCertificate) exists: this directory already has a cluster CA")
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("RadonFS")
            CommonName("\(clusterName) cluster CA")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now - clockSkew, notValidAfter: now + 20 * 365 * 24 * 3600,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        // The key first: a certificate without its key would block a retry of `create`.
        try PrivateState.writeFile(Array(try key.serializeAsPEM().pemString.utf8), to: directory.authorityKey)
        try PrivateState.writeFile(Array(try certificate.serializeAsPEM().pemString.utf8), to: directory.authorityCertificate)
        return try ClusterAuthority(directory: directory)
    }

    /// Issues `name` a certificate for `role` with a new key, written as `NAME.pem` and
    /// `NAME.key` in `output` (default: the authority's directory), with a copy of `ca.pem`
    /// there when it is another directory. Re-issuing a name replaces its files (rotation); the
    /// old certificate stays valid until revoked or expired.
    @discardableResult
    public func issue(name: String, role: WireRoles, validity: Duration = Self.defaultValidity, into output: TLSDirectory? = nil) throws -> Certificate {
        guard TLSDirectory.isValidName(name) else {
            throw WireError(.invalidArgument, "\"\(name)\" cannot name a certificate: use letters, digits, '.', '_' and '-' (not \"ca\")")
        }
        guard let roleName = WireRoles.names.first(where: { $0.role == role })?.name else {
            throw WireError(.invalidArgument, "a certificate has exactly one role of \(WireRoles.names.map(\.name).joined(separator: ", "))")
        }
        let output = output ?? directory
        try PrivateState.makeDirectory(output.path)
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let now = Date()
        let seconds = TimeInterval(validity.components.seconds)
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now - Self.clockSkew, notValidAfter: now + seconds,
            issuer: certificate.subject,
            subject: try DistinguishedName {
                OrganizationName("RadonFS")
                OrganizationalUnitName(roleName)
                CommonName(name)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: privateKey)
        try PrivateState.writeFile(Array(try key.serializeAsPEM().pemString.utf8), to: output.privateKey(of: name))
        try PrivateState.writeFile(Array(try leaf.serializeAsPEM().pemString.utf8), to: output.certificate(of: name))
        if output != directory {
            try PrivateState.writeFile(Array(try certificate.serializeAsPEM().pemString.utf8), to: output.authorityCertificate)
        }
        return leaf
    }

    /// Issues `name` a certificate for `role` in the authority's directory unless it has one
    /// already (an existing one is kept whatever its role: re-issuing is `issue`).
    public func issueUnlessPresent(name: String, role: WireRoles) throws {
        guard !FileManager.default.fileExists(atPath: directory.certificate(of: name)) else { return }
        try issue(name: name, role: role)
    }

    /// Revokes the certificate issued as `NAME.pem` in `directory` (default: the authority's):
    /// its serial joins the `revoked` list of the authority's directory, which every server
    /// reading that list refuses from the peer's next connection. Returns the serial.
    @discardableResult
    public func revoke(name: String, issuedIn directory: TLSDirectory? = nil) throws -> String {
        let source = directory ?? self.directory
        let path = source.certificate(of: name)
        let revoked = try TLSDirectory.readPEM(path, what: "a certificate", Certificate.init(pemEncoded:))
        guard revoked.issuer == certificate.subject else {
            throw WireError(.invalidArgument, "\(path) was not issued by this cluster's CA")
        }
        let serial = revoked.serialNumber.hexString
        try CertificateRevocations.append(serial: serial, name: name, to: self.directory.revocations)
        return serial
    }
}

extension Certificate.SerialNumber {
    /// The serial's bytes as lowercase hex: how `revoked` files name certificates.
    public var hexString: String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
