import ArgumentParser
import Logging
import NIOSSL
import RadonConsole
import RadonWire
import ServiceLifecycle

/// The web console's options of `radonfs meta`. On by default, on 127.0.0.1 and a port the
/// system picks (logged, and written to `--console-port-file` for `up`), read-only unless an
/// admin token file is given.
///
/// Invariant: an admin token never crosses a network in clear. A console with a token listens
/// on a loopback address, or serves HTTPS with `--console-tls-certificate` and `--console-tls-key`
/// (a web certificate for the name browsers use; the cluster CA's certificates carry no host
/// names, so browsers would refuse them).
struct ConsoleOptions: ParsableArguments {
    @Option(name: .customLong("console-listen"), help: ArgumentHelp("Serve the web console at HOST:PORT (port 0 picks a free one, logged). Reading it needs no credential: keep it on 127.0.0.1 (the default) and reach it through an SSH tunnel, or serve it over HTTPS.", valueName: "host:port"))
    var listen: String = "127.0.0.1:0"

    @Flag(name: .customLong("no-console"), help: "Serve no web console.")
    var disabled = false

    @Option(name: .customLong("console-port-file"), help: ArgumentHelp("Write the console's host:port here once it listens (for launchers).", valueName: "path"))
    var portFile: String?

    @Option(name: .customLong("console-admin-token-file"), help: ArgumentHelp("A file holding the admin token (16 characters or more, no spaces): a request with `Authorization: Bearer TOKEN` may start a rebuild or scrub and remove a node. Without it the console is read-only.", valueName: "path"))
    var adminTokenFile: String?

    @Option(name: .customLong("console-tls-certificate"), help: ArgumentHelp("Serve the console over HTTPS with this PEM certificate chain (for the name browsers use); needs --console-tls-key.", valueName: "path"))
    var tlsCertificate: String?

    @Option(name: .customLong("console-tls-key"), help: ArgumentHelp("The PEM private key of --console-tls-certificate.", valueName: "path"))
    var tlsKey: String?

    func validate() throws {
        guard let address = WireAddress(listen) else { throw ValidationError("--console-listen must be host:port, got \"\(listen)\"") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--console-tls-certificate and --console-tls-key go together")
        }
        if let adminTokenFile {
            do { _ = try ConsoleAdminToken(file: adminTokenFile) } catch { throw ValidationError("\(error)") }
            if !disabled, tlsCertificate == nil, !Self.isLoopback(address.host) {
                throw ValidationError("""
                    the console at \(listen) would send its admin token over the network in clear: give \
                    --console-tls-certificate and --console-tls-key (HTTPS), listen on 127.0.0.1, or leave out \
                    --console-admin-token-file (read-only)
                    """)
            }
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The console as a lifecycle service, over `meta` (the server's own in-process client);
    /// `linkHost` is the host its links name when it listens on a wildcard address.
    func services(meta: MetaClient, linkHost: String? = nil, logger: Logger) throws -> [any Service] {
        guard !disabled, let address = WireAddress(listen) else { return [] }
        let token = try adminTokenFile.map { try ConsoleAdminToken(file: $0) }
        let portFile = self.portFile
        return [try ConsoleServer(host: address.host, port: address.port, linkHost: linkHost, meta: meta, adminToken: token, tls: try tls(), logger: logger) { bound in
            if let portFile { try? DaemonRuntime.writeAtomically(bound, to: portFile) }
        }]
    }

    /// HTTPS from the given certificate and key, TLS 1.2 or later (what browsers speak).
    func tls() throws -> TLSConfiguration? {
        guard let tlsCertificate, let tlsKey else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tlsCertificate)
            let key = try NIOSSLPrivateKey(file: tlsKey, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch {
            throw CLIError("cannot load the console's certificate \(tlsCertificate) or key \(tlsKey): \(error)")
        }
    }
}
