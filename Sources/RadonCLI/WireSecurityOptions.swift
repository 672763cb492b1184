import ArgumentParser
import RadonWire

/// How a daemon or command proves itself on the wire: a certificate of the cluster CA (the
/// default, mutual TLS 1.3), or the shared cluster key in plaintext with an explicit
/// `--insecure`, kept for measuring what TLS costs.
struct WireSecurityOptions: ParsableArguments {
    @Option(name: .customLong("tls-dir"), help: ArgumentHelp("Directory of the cluster's TLS files: ca.pem, NAME.pem and NAME.key (`radonfs cert issue`), and the revoked list.", valueName: "dir"))
    var tlsDir: String?

    @Option(name: .long, help: ArgumentHelp("Which certificate of --tls-dir to use (its NAME).", valueName: "name"))
    var identity: String?

    @Flag(name: .long, help: "Plaintext with the shared cluster key (--key-file) instead of mutual TLS: every peer holds every role, nothing is encrypted. For measuring what TLS costs.")
    var insecure = false

    @Option(name: .customLong("key-file"), help: ArgumentHelp("The cluster key file, with --insecure.", valueName: "path"))
    var keyFile: String?

    func validate() throws {
        if insecure {
            guard keyFile != nil else { throw ValidationError("--insecure needs --key-file (the cluster.key of the cluster)") }
            guard tlsDir == nil, identity == nil else { throw ValidationError("--insecure is plaintext: leave out --tls-dir and --identity") }
        } else if tlsDir != nil || identity != nil {
            // --identity alone picks a certificate of a local cluster's directory (--dir).
            guard tlsDir == nil || identity != nil else { throw ValidationError("--tls-dir needs --identity (which certificate to use)") }
            guard keyFile == nil else { throw ValidationError("--key-file is for --insecure; with TLS the certificate proves who this is") }
        }
    }

    /// Whether any way of proving itself was given (commands that can also find a local cluster
    /// directory check this before falling back to it).
    var isGiven: Bool { insecure || tlsDir != nil }

    /// The credentials the options name. Throws a clear error when none were given or the
    /// files cannot be read.
    func credentials() throws -> WireCredentials {
        try Self.credentials(tlsDirectory: tlsDir, identity: identity, insecureKeyFile: insecure ? keyFile : nil)
    }

    /// Credentials from a TLS directory and identity, or from a key file for plaintext.
    static func credentials(tlsDirectory: String?, identity: String?, insecureKeyFile: String?) throws -> WireCredentials {
        do {
            if let insecureKeyFile {
                return .sharedKey(try ClusterKey(contentsOf: insecureKeyFile))
            }
            guard let tlsDirectory, let identity else {
                throw CLIError("give --tls-dir DIR --identity NAME (mutual TLS), or --insecure --key-file FILE (plaintext)")
            }
            return .mutualTLS(try WireTLSIdentity(directory: TLSDirectory(tlsDirectory), name: identity))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The same choice as arguments for a daemon `radonfs up` starts.
    static func arguments(tlsDirectory: String?, identity: String, keyFile: String) -> [String] {
        if let tlsDirectory {
            return ["--tls-dir", tlsDirectory, "--identity", identity]
        }
        return ["--insecure", "--key-file", keyFile]
    }
}
