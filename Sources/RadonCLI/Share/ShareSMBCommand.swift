import ArgumentParser
import Foundation
import RadonWire

/// `radonfs share smb`: writes the Samba configuration for a directory of a RadonFS mount and
/// becomes smbd, in the foreground, so that systemd (or a test) supervises the server itself.
struct ShareSMBCommand: ShareServerCommand {
    static let configuration = CommandConfiguration(
        commandName: "smb",
        abstract: "Serve a directory of a RadonFS mount over SMB: write smb.conf, then run smbd in the foreground.",
        discussion: """
            Writes STATE-DIR/smb.conf and replaces itself with `smbd --foreground`, so the pid \
            stays the server's (stop it with SIGTERM). Set the account's password first with \
            `radonfs share smb-password --state-dir STATE-DIR --user USER` (reads it from stdin). \
            --print-config prints the configuration and starts nothing. Needs Debian's samba.
            """
    )

    @Option(help: ArgumentHelp("The directory to share, on a RadonFS mount.", valueName: "dir"))
    var path: String

    @Option(help: ArgumentHelp("The share's name (\\\\HOST\\NAME).", valueName: "name"))
    var name: String = "radonfs"

    @Option(help: ArgumentHelp("An address (or interface) to serve on; repeat for several. Nothing else is bound.", valueName: "address"))
    var listen: [String] = []

    @Option(help: "The TCP port.")
    var port: Int = 445

    @OptionGroup var account: SambaAccountOptions

    @Flag(name: .customLong("client-caching"), help: "Let clients cache (oplocks, SMB2 leases): only when no other host writes the shared files.")
    var clientCaching = false

    @Flag(name: .customLong("any-file-system"), help: "Share the directory even if it is not on a RadonFS mount.")
    var anyFileSystem = false

    @Flag(name: .customLong("print-config"), help: "Print the configuration and exit.")
    var printConfig = false

    func configuration(path: String) -> SambaConfiguration {
        SambaConfiguration(
            path: path, shareName: name, listenAddresses: listen, port: port,
            stateDirectory: account.stateDirectory, user: account.user, clientCaching: clientCaching)
    }

    var server: ExternalTool { ExternalTool(name: "smbd", package: "samba") }

    func prepare(_ samba: SambaConfiguration) throws -> [String] {
        try SambaAccount.requireUnixUser(samba.user)
        try SambaAccount.prepareStateDirectory(samba)
        try PrivateState.writeFile(Array(samba.render().utf8), to: samba.configurationPath)
        return ["--foreground", "--no-process-group", "--debug-stdout", "--configfile=\(samba.configurationPath)"]
    }
}
