/// How a process proves itself and checks its peers on every connection it serves or opens.
public enum WireCredentials: Sendable {
    /// Plaintext with the shared cluster key (HMAC over the server's challenge): `--insecure`.
    /// Nothing after the handshake is encrypted or integrity-checked, and every peer holds
    /// every role; kept for measuring what TLS costs and for tests of the layers above.
    case sharedKey(ClusterKey)
    /// Mutual TLS 1.3 with certificates of the cluster CA; roles from the certificates.
    case mutualTLS(WireTLSIdentity)
}

extension WireCredentials {
    /// The name of this process's certificate; nil with the shared key.
    public var identityName: String? {
        switch self {
        case .sharedKey: nil
        case .mutualTLS(let identity): identity.name
        }
    }

    /// Whether connections with these credentials run TLS (and their reads are NIOSSL's buffers).
    var usesTLS: Bool {
        if case .mutualTLS = self { true } else { false }
    }
}
