import ArgumentParser
import Foundation
import RadonWire

/// `radonfs share nfs`: writes the NFS-Ganesha configuration for a directory of a RadonFS
/// mount and becomes ganesha.nfsd, in the foreground, as `share smb` becomes smbd.
struct ShareNFSCommand: ShareServerCommand {
    static let configuration = CommandConfiguration(
        commandName: "nfs",
        abstract: "Serve a directory of a RadonFS mount over NFSv3/v4: write ganesha.conf, then run NFS-Ganesha in the foreground.",
        discussion: """
            Writes STATE-DIR/ganesha.conf and replaces itself with `ganesha.nfsd -F`, logging to \
            STATE-DIR/ganesha.log. NFSv3 clients (mount -t nfs -o vers=3, libnfs) need rpcbind \
            running on this machine; NFSv4 clients do not. Needs Debian's nfs-ganesha and \
            nfs-ganesha-vfs. --print-config prints the configuration and starts nothing.
            """
    )

    @Option(help: ArgumentHelp("The directory to export, on a RadonFS mount.", valueName: "dir"))
    var path: String

    @Option(help: ArgumentHelp("The address to serve on (one).", valueName: "address"))
    var listen: String

    @Option(help: "The NFS port.")
    var port: Int = 2049

    @Option(name: .customLong("mount-port"), help: "The NFSv3 MOUNT protocol's port.")
    var mountPort: Int = 20048

    @Option(help: ArgumentHelp("Where NFSv4 clients find the export.", valueName: "path"))
    var pseudo: String = "/radonfs"

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Ganesha's files: configuration, log, pid, NFSv4 recovery.", valueName: "dir"))
    var stateDirectory: String

    @Flag(name: .customLong("no-root-squash"), help: "Root on a client acts as root on the mount (by default it acts as nobody).")
    var noRootSquash = false

    @Flag(name: .customLong("any-file-system"), help: "Export the directory even if it is not on a RadonFS mount.")
    var anyFileSystem = false

    @Flag(name: .customLong("print-config"), help: "Print the configuration and exit.")
    var printConfig = false

    func configuration(path: String) -> GaneshaConfiguration {
        GaneshaConfiguration(
            path: path, pseudoPath: pseudo, listenAddress: listen, port: port, mountPort: mountPort,
            stateDirectory: stateDirectory, rootAccess: noRootSquash)
    }

    var server: ExternalTool { ExternalTool(name: "ganesha.nfsd", package: "nfs-ganesha nfs-ganesha-vfs") }

    func prepare(_ nfs: GaneshaConfiguration) throws -> [String] {
        try PrivateState.makeDirectory(nfs.stateDirectory)
        try PrivateState.makeDirectory(nfs.recoveryDirectory)
        try PrivateState.writeFile(Array(nfs.render().utf8), to: nfs.configurationPath)
        return ["-F", "-f", nfs.configurationPath, "-L", nfs.logPath, "-p", nfs.pidPath, "-N", "NIV_EVENT"]
    }
}
