import ArgumentParser

/// `radonfs share smb|smb-password|nfs`: re-export a RadonFS mount to machines that cannot run the
/// FUSE client, through another project's server (Samba, NFS-Ganesha) over the mount.
struct ShareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Re-export a RadonFS mount over SMB (Samba) or NFS (NFS-Ganesha), for machines without the FUSE client.",
        discussion: """
            The server runs on a host that mounts RadonFS and serves the mount's files; every \
            file still lives in the cluster, so several hosts may re-export the same directory. \
            SMB needs Debian's samba (smbd, smbpasswd), for any SMB2/3 client (Finder, Windows, \
            smbclient); NFS needs nfs-ganesha and nfs-ganesha-vfs (and rpcbind for NFSv3).
            """,
        subcommands: [ShareSMBCommand.self, ShareSMBPasswordCommand.self, ShareNFSCommand.self]
    )
}

/// What the SMB server and its password command share: where Samba keeps its files, and the
/// account.
struct SambaAccountOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Samba's private files (password database, locks, caches, logs); never /etc/samba or /var/lib/samba.", valueName: "dir"))
    var stateDirectory: String

    @Option(help: ArgumentHelp("The Unix user the share maps to: the only SMB account, and the owner of what clients create.", valueName: "name"))
    var user: String
}
