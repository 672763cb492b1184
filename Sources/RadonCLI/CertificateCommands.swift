import ArgumentParser
import Foundation
import RadonWire

/// `radonfs ca init`: the cluster's certificate authority.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Make the cluster's certificate authority (the trust root of every connection).",
        subcommands: [CAInitCommand.self]
    )
}

struct CAInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a cluster CA: DIR/ca.pem (give it to every host) and DIR/ca.key (keep it on the admin host only).",
        discussion: "`radonfs up` makes one under its cluster directory (DIR/tls) by itself."
    )

    @Option(name: .long, help: ArgumentHelp("Where the CA's files go (created 0700).", valueName: "dir"))
    var dir: String

    @Option(name: .long, help: "A name for the CA's certificate.")
    var name: String = "radonfs"

    func run() throws {
        PrivateState.restrictNewFiles()
        do {
            let authority = try ClusterAuthority.create(in: TLSDirectory(dir), clusterName: name)
            print("cluster CA made: \(authority.directory.authorityCertificate) (and its key ca.key, 0600)")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// `radonfs cert issue|revoke`: certificates of the cluster CA.
struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Issue or revoke a certificate of the cluster CA.",
        subcommands: [CertIssueCommand.self, CertRevokeCommand.self]
    )
}

struct CertIssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue NAME a certificate with one role: NAME.pem and NAME.key (0600), beside ca.pem.",
        discussion: """
            Roles: meta (a metadata server), storage (a storage daemon), client (a mount or the \
            file verbs: the namespace and data only), admin (everything: volumes, nodes, healing). \
            Issuing an existing NAME again replaces its files (rotation: restart the process that \
            uses it); revoke the old one if it leaked.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The CA's directory (ca.pem and ca.key).", valueName: "dir"))
    var dir: String

    @Option(name: .long, help: ArgumentHelp("meta, storage, client or admin.", valueName: "role"))
    var role: String

    @Option(name: .long, help: ArgumentHelp("Where NAME.pem, NAME.key and a copy of ca.pem go (default: --dir).", valueName: "dir"))
    var out: String?

    @Option(name: .long, help: "Days the certificate is valid.")
    var days: Int = 365

    @Argument(help: "The certificate's name (letters, digits, '.', '_', '-'); the process uses it as --identity.")
    var name: String

    func validate() throws {
        guard WireRoles(name: role) != nil else { throw ValidationError("--role is meta, storage, client or admin, not \"\(role)\"") }
        guard TLSDirectory.isValidName(name) else { throw ValidationError("\"\(name)\" cannot name a certificate: letters, digits, '.', '_', '-' (not \"ca\")") }
        guard days >= 1 else { throw ValidationError("--days must be at least 1") }
    }

    func run() throws {
        PrivateState.restrictNewFiles()
        do {
            let authority = try ClusterAuthority(directory: TLSDirectory(dir))
            let output = TLSDirectory(out ?? dir)
            let certificate = try authority.issue(
                name: name, role: WireRoles(name: role)!, validity: .seconds(days * 24 * 3600), into: output)
            print("issued \(output.certificate(of: name)) (\(role), serial \(certificate.serialNumber.hexString), until \(certificate.notValidAfter))")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

struct CertRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke the certificate issued as NAME: every server reading the CA directory's `revoked` list refuses it from its next connection.",
        discussion: "Servers read DIR/revoked of their --tls-dir; on other hosts copy that file there (it holds serials only)."
    )

    @Option(name: .long, help: ArgumentHelp("The CA's directory.", valueName: "dir"))
    var dir: String

    @Option(name: .customLong("issued-in"), help: ArgumentHelp("Where NAME.pem is, when it was issued with --out elsewhere.", valueName: "dir"))
    var issuedIn: String?

    @Argument(help: "The certificate's name.")
    var name: String

    func run() throws {
        PrivateState.restrictNewFiles()
        do {
            let authority = try ClusterAuthority(directory: TLSDirectory(dir))
            let serial = try authority.revoke(name: name, issuedIn: issuedIn.map(TLSDirectory.init))
            print("revoked \(name) (serial \(serial)) in \(authority.directory.revocations)")
        } catch {
            throw CLIError("\(error)")
        }
    }
}
