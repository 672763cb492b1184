/// The smb.conf that re-exports a RadonFS mount over SMB, rendered from a few choices.
///
/// Invariants: every path is absolute and every value is one line with no control characters
/// (`validate()` checks it), so nothing a user passes can add a setting of its own; the global
/// section depends only on `stateDirectory` and the listening choices, so the password command
/// and the server, rendering from the same state directory, find the same password database.
///
/// Every file Samba keeps lives under `stateDirectory`: it never reads /etc/samba or writes
/// /var/lib/samba, so it runs next to the machine's own smbd (on other addresses or ports).
struct SambaConfiguration: Equatable, Sendable {
    /// The directory shared (on a RadonFS mount).
    var path: String
    /// The share's name, as clients see it (`\\host\NAME`).
    var shareName: String
    /// Addresses (or interface names) to listen on; nothing else is bound.
    var listenAddresses: [String]
    /// The TCP port (445 for every SMB client by default).
    var port: Int = 445
    /// Samba's private files: password database, locks, caches, pid file.
    var stateDirectory: String
    /// The Unix user the share maps to: the only account that may log in, and the owner of
    /// every file made through the share.
    var user: String
    /// Lets clients cache (oplocks and SMB2 leases). Off by default, see `render()`.
    var clientCaching: Bool = false

    /// The directories under `stateDirectory` that Samba writes, and the mode each needs
    /// (the private one holds password hashes).
    var stateDirectories: [(path: String, mode: UInt16)] {
        [("private", 0o700), ("lock", 0o755), ("state", 0o755), ("cache", 0o755), ("run", 0o755),
         ("ncalrpc", 0o755), ("bind-dns", 0o700), ("log", 0o755)]
            .map { ("\(stateDirectory)/\($0.0)", $0.1) }
    }

    /// Where `share smb` writes the server's configuration.
    var configurationPath: String { "\(stateDirectory)/smb.conf" }
    /// Where `share smb-password` writes the configuration it hands smbpasswd (globals only).
    var passwordConfigurationPath: String { "\(stateDirectory)/smb-passdb.conf" }

    /// Share names Samba reserves for sections of its own, and the characters Windows refuses
    /// in a share name.
    static let reservedShareNames: Set<String> = ["global", "homes", "printers", "print$", "ipc$"]
    static let forbiddenShareNameCharacters = Set("[]/\\:+|<>=;,*?\"")

    /// Checks what a user passed; the message says what to change.
    func validate() throws(ShareConfigurationError) {
        try ShareConfigurationError.checkAbsolute(path, "the shared directory")
        try ShareConfigurationError.checkAbsolute(stateDirectory, "the state directory")
        let name = shareName
        guard !name.isEmpty, name.count <= 80 else { throw .init("the share name must have 1 to 80 characters") }
        guard !name.contains(where: { Self.forbiddenShareNameCharacters.contains($0) }), ShareConfigurationError.isOneLine(name) else {
            throw .init("the share name \"\(name)\" has a character SMB does not allow in a share name ([]/\\:+|<>=;,*?\" or a control character)")
        }
        guard !Self.reservedShareNames.contains(name.lowercased()) else { throw .init("\"\(name)\" is a name Samba reserves; choose another share name") }
        guard !listenAddresses.isEmpty else { throw .init("give at least one address to listen on (--listen)") }
        for address in listenAddresses {
            guard !address.isEmpty, address.allSatisfy({ $0.isLetter || $0.isNumber || ".:-_%/".contains($0) }) else {
                throw .init("\"\(address)\" is not an address or an interface name")
            }
        }
        guard (1...65535).contains(port) else { throw .init("the port must be between 1 and 65535") }
        guard !user.isEmpty, user.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }), user.first != "-" else {
            throw .init("\"\(user)\" is not a Unix user name")
        }
    }

    /// The `[global]` section: where Samba listens and keeps its files, and what it leaves out.
    func renderGlobals() -> String {
        let state = stateDirectory
        var lines = [
            "# Made by `radonfs share smb`; written again at each start, edits are lost.",
            "[global]",
            "    server role = standalone server",
            // Listen on the given addresses only: a re-exporting node usually has a storage
            // network it must not serve SMB on.
            "    interfaces = \(listenAddresses.joined(separator: " "))",
            "    bind interfaces only = yes",
            "    smb ports = \(port)",
            // SMB2/3 over TCP only (every Mac, Windows and Linux client of this decade): no
            // NetBIOS name service, no SMB1.
            "    disable netbios = yes",
            "    server min protocol = SMB2_10",
            // Every file of Samba's under the state directory, never /etc/samba or /var/lib/samba.
            "    private dir = \(state)/private",
            "    passdb backend = tdbsam:\(state)/private/passdb.tdb",
            "    lock directory = \(state)/lock",
            "    state directory = \(state)/state",
            "    cache directory = \(state)/cache",
            "    pid directory = \(state)/run",
            "    ncalrpc dir = \(state)/ncalrpc",
            "    binddns dir = \(state)/bind-dns",
            "    log file = \(state)/log/%m.log",
            "    max log size = 10000",
            // A wrong password is refused, never turned into a guest login.
            "    map to guest = never",
            "    restrict anonymous = 2",
            "    load printers = no",
            "    printing = bsd",
            "    printcap name = /dev/null",
            "    disable spoolss = yes",
        ]
        // SMB2 leases are client caching, like oplocks (see the share section); Samba reads
        // this one only in [global].
        lines.append("    smb2 leases = \(clientCaching ? "yes" : "no")")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The whole configuration: the globals and the one share.
    ///
    /// The share's settings suit a FUSE file system that other hosts mount too:
    /// - no oplocks or leases (unless `clientCaching`): Samba could only break a client's
    ///   cache when another host changes the file if the kernel told it, through kernel
    ///   oplocks, which need F_SETLEASE, which FUSE does not offer; without them a Mac would
    ///   keep reading stale data another node wrote. Off, clients read and write through, and
    ///   see what every host wrote (close-to-open, as RadonFS mounts do).
    /// - `kernel oplocks = no`: FUSE has no leases (it would only fail); `kernel share modes =
    ///   no`: flock(LOCK_MAND) is gone from Linux.
    /// - `posix locking = yes`: a client's byte-range locks become fcntl locks on the mount,
    ///   which RadonFS keeps in the metadata service, so processes on every host, and the
    ///   clients of other re-exporting nodes, see them.
    /// - `strict sync = yes`, `sync always = no`: a client's flush becomes fsync, which RadonFS
    ///   answers once the blocks are on the storage nodes; fsync after every write would
    ///   encode and send each write on its own.
    /// - DOS attributes and streams in user extended attributes (`store dos attributes`,
    ///   `streams_xattr`), which the RadonFS mount stores in the metadata service, instead of
    ///   mapping them onto mode bits; `fruit` for the Mac clients (Finder metadata as streams,
    ///   resource forks in AppleDouble files, which may be larger than an xattr).
    /// - `nt acl support = no`: the mount checks mode bits only (no POSIX ACLs), so Windows
    ///   ACLs are not offered rather than faked.
    func render() -> String {
        let share = [
            "",
            "[\(shareName)]",
            "    path = \(path)",
            "    read only = no",
            "    browseable = yes",
            "    valid users = \(user)",
            "    force user = \(user)",
            "    oplocks = \(clientCaching ? "yes" : "no")",
            "    level2 oplocks = \(clientCaching ? "yes" : "no")",
            "    kernel oplocks = no",
            "    kernel share modes = no",
            "    posix locking = yes",
            "    strict sync = yes",
            "    sync always = no",
            "    ea support = yes",
            "    store dos attributes = yes",
            "    map archive = no",
            "    map hidden = no",
            "    map system = no",
            "    map readonly = no",
            "    vfs objects = fruit streams_xattr",
            "    fruit:metadata = stream",
            "    nt acl support = no",
        ]
        return renderGlobals() + share.joined(separator: "\n") + "\n"
    }
}
