import RadonWire

/// The ganesha.conf that re-exports a RadonFS mount over NFS through NFS-Ganesha's VFS backend
/// (FSAL_VFS), rendered from a few choices.
///
/// FSAL_VFS reaches files by kernel file handles (name_to_handle_at, open_by_handle_at); the
/// FUSE mount gives them (the kernel's FUSE export operations), so Ganesha serves the mount as
/// it would a local disk.
///
/// Invariants: as `SambaConfiguration`'s, every path is absolute and every value one line
/// (`validate()`), and Ganesha's own files (log, pid, NFSv4 recovery) live under
/// `stateDirectory`.
struct GaneshaConfiguration: Equatable, Sendable {
    /// The directory exported (on a RadonFS mount).
    var path: String
    /// Where NFSv4 clients find it in Ganesha's pseudo file system.
    var pseudoPath: String = "/radonfs"
    /// The one address Ganesha binds (it takes one).
    var listenAddress: String
    /// NFS's port; MOUNT (NFSv3) listens on `mountPort`.
    var port: Int = 2049
    var mountPort: Int = 20048
    var stateDirectory: String
    /// Root on a client acts as root on the mount (off: it acts as nobody).
    var rootAccess: Bool = false

    var configurationPath: String { "\(stateDirectory)/ganesha.conf" }
    var logPath: String { "\(stateDirectory)/ganesha.log" }
    var pidPath: String { "\(stateDirectory)/ganesha.pid" }
    var recoveryDirectory: String { "\(stateDirectory)/recovery" }

    func validate() throws(ShareConfigurationError) {
        try ShareConfigurationError.checkAbsolute(path, "the exported directory")
        try ShareConfigurationError.checkAbsolute(stateDirectory, "the state directory")
        try ShareConfigurationError.checkAbsolute(pseudoPath, "the pseudo path")
        guard !pseudoPath.contains(where: { "\";{}#".contains($0) }), !path.contains(where: { "\";{}#".contains($0) }) else {
            throw .init("the paths must not contain \" ; { } or #, which end a Ganesha setting")
        }
        guard !listenAddress.isEmpty, listenAddress.allSatisfy({ $0.isHexDigit || ".:".contains($0) }) else {
            throw .init("\"\(listenAddress)\" is not an IP address (Ganesha binds one address)")
        }
        guard (1...65535).contains(port), (1...65535).contains(mountPort), port != mountPort else {
            throw .init("the ports must be two different numbers between 1 and 65535")
        }
    }

    /// The configuration. Choices for a FUSE file system other hosts mount too:
    /// - NFSv3 and v4 over TCP only (`Enable_UDP = false`); NFSv3 needs the machine's rpcbind
    ///   (Ganesha registers NFS and MOUNT there), v4 does not.
    /// - no NLM (it needs rpc.statd, and its locks would be this server's alone; NFSv4 locks go
    ///   through to the mount's fcntl locks, which RadonFS keeps in the metadata service);
    /// - `Attr_Expiration_Time = 1`: Ganesha's attribute cache expires as fast as the mount's
    ///   own (1 s), so what other hosts write shows as it does through the mount;
    /// - `Graceless`: Ganesha's NFSv4 state on this node only wraps the mount's, and a grace
    ///   period would hold every client for 90 s after each start;
    /// - root squashed to nobody (65534, as `radonfs export` squashes), not Ganesha's own
    ///   default of -2, which no Debian system has a user for;
    /// - no Kerberos (AUTH_SYS, as the mount's own users).
    func render() -> String {
        """
        # Made by `radonfs share nfs`; written again at each start, edits are lost.
        NFS_CORE_PARAM {
            Bind_addr = \(listenAddress);
            NFS_Port = \(port);
            MNT_Port = \(mountPort);
            Enable_NLM = false;
            Enable_RQUOTA = false;
            Enable_UDP = false;
            Protocols = 3, 4;
        }
        NFSV4 {
            Graceless = true;
            RecoveryBackend = fs;
            RecoveryRoot = "\(recoveryDirectory)";
        }
        NFS_KRB5 { Active_krb5 = false; }
        EXPORT {
            Export_Id = 1;
            Path = "\(path)";
            Pseudo = "\(pseudoPath)";
            Access_Type = RW;
            Squash = \(rootAccess ? "No_Root_Squash" : "Root_Squash");
            Anonymous_Uid = \(ExportRule.nobody);
            Anonymous_Gid = \(ExportRule.nobody);
            Protocols = 3, 4;
            Transports = TCP;
            SecType = sys;
            Attr_Expiration_Time = 1;
            FSAL { Name = VFS; }
        }

        """
    }
}
