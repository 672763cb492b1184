import Testing

@testable import RadonCLI

/// The ganesha.conf `radonfs share nfs` writes, its checks, and the message when a server
/// program is not installed.
struct GaneshaConfigurationTests {
    static let sample = GaneshaConfiguration(
        path: "/mnt/radon/projects", pseudoPath: "/projects", listenAddress: "192.0.2.10", port: 2049, mountPort: 20048,
        stateDirectory: "/var/lib/radonfs-nfs")

    @Test("binds the address, exports the path through VFS with root squashed, keeps its files in the state directory")
    func rendered() {
        let text = Self.sample.render()
        for line in ["Bind_addr = 192.0.2.10;", "NFS_Port = 2049;", "MNT_Port = 20048;", "Enable_NLM = false;", "Enable_UDP = false;",
                     "Path = \"/mnt/radon/projects\";", "Pseudo = \"/projects\";", "Squash = Root_Squash;", "FSAL { Name = VFS; }",
                     "Attr_Expiration_Time = 1;", "Anonymous_Uid = 65534;", "RecoveryRoot = \"/var/lib/radonfs-nfs/recovery\";"] {
            #expect(text.contains(line), "missing \(line)")
        }
        var open = Self.sample
        open.rootAccess = true
        #expect(open.render().contains("Squash = No_Root_Squash;"))
        #expect(text.filter { $0 == "{" }.count == text.filter { $0 == "}" }.count)
    }

    @Test("bad values are refused with a message")
    func refused() {
        for change in [
            { (c: inout GaneshaConfiguration) in c.path = "relative" },
            { c in c.path = "/mnt/a\"; Access_Type = RW; \"" },
            { c in c.pseudoPath = "/x}" },
            { c in c.listenAddress = "0.0.0.0 1.2.3.4" },
            { c in c.listenAddress = "eth0" },
            { c in c.mountPort = c.port },
            { c in c.stateDirectory = "state\n" },
        ] {
            var configuration = Self.sample
            change(&configuration)
            #expect(throws: ShareConfigurationError.self) { try configuration.validate() }
        }
        #expect(throws: Never.self) { try Self.sample.validate() }
    }

    @Test("a server program that is not installed: the message names the Debian package")
    func missingTool() {
        #expect(throws: ShareConfigurationError("radonfs-no-such-server is not installed; install Debian's samba (apt-get install -y samba)")) {
            try ExternalTool(name: "radonfs-no-such-server", package: "samba").locate()
        }
    }
}
