import Testing

@testable import RadonCLI

/// The smb.conf `radonfs share smb` writes: what it must say for a FUSE backend shared by many
/// hosts, that every Samba file stays in the state directory, and that no user value can add
/// a setting of its own.
struct SambaConfigurationTests {
    static let sample = SambaConfiguration(
        path: "/mnt/radon/projects", shareName: "projects", listenAddresses: ["192.0.2.10", "eth1"], port: 4450,
        stateDirectory: "/var/lib/radonfs-smb", user: "editor")

    /// The value of `key` in the rendered text (the first one), trimmed.
    static func value(_ key: String, in text: String) -> String? {
        text.split(separator: "\n").lazy.compactMap { line -> String? in
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 && parts[0] == key ? parts[1] : nil
        }.first
    }

    @Test("listens only on the given addresses and port, SMB2 and later, no NetBIOS")
    func listening() {
        let text = Self.sample.render()
        #expect(Self.value("interfaces", in: text) == "192.0.2.10 eth1")
        #expect(Self.value("bind interfaces only", in: text) == "yes")
        #expect(Self.value("smb ports", in: text) == "4450")
        #expect(Self.value("disable netbios", in: text) == "yes")
        #expect(Self.value("server min protocol", in: text) == "SMB2_10")
        #expect(Self.value("map to guest", in: text) == "never")
    }

    @Test("every directory and database Samba uses is under the state directory")
    func stateDirectory() {
        let text = Self.sample.render()
        for key in ["private dir", "lock directory", "state directory", "cache directory", "pid directory", "ncalrpc dir", "binddns dir", "log file"] {
            let value = Self.value(key, in: text)
            #expect(value?.hasPrefix("/var/lib/radonfs-smb/") == true, "\(key) = \(value ?? "missing")")
        }
        #expect(Self.value("passdb backend", in: text) == "tdbsam:/var/lib/radonfs-smb/private/passdb.tdb")
        #expect(!text.contains("/etc/samba") && !text.contains("/var/lib/samba"))
        #expect(Self.sample.stateDirectories.allSatisfy { $0.path.hasPrefix("/var/lib/radonfs-smb/") })
        #expect(Self.sample.stateDirectories.first { $0.path.hasSuffix("/private") }?.mode == 0o700)
    }

    @Test("the share: the user, no client caching, locks and sync through to RadonFS, attributes in xattrs")
    func share() {
        let text = Self.sample.render()
        #expect(text.contains("\n[projects]\n"))
        #expect(Self.value("path", in: text) == "/mnt/radon/projects")
        #expect(Self.value("valid users", in: text) == "editor")
        #expect(Self.value("force user", in: text) == "editor")
        #expect(Self.value("read only", in: text) == "no")
        for (key, expected) in [("oplocks", "no"), ("level2 oplocks", "no"), ("smb2 leases", "no"), ("kernel oplocks", "no"),
                                ("posix locking", "yes"), ("strict sync", "yes"), ("store dos attributes", "yes"), ("ea support", "yes")] {
            #expect(Self.value(key, in: text) == expected, "\(key)")
        }
        #expect(Self.value("vfs objects", in: text) == "fruit streams_xattr")
        var caching = Self.sample
        caching.clientCaching = true
        let cached = caching.render()
        #expect(Self.value("oplocks", in: cached) == "yes" && Self.value("smb2 leases", in: cached) == "yes")
        #expect(Self.value("kernel oplocks", in: cached) == "no")
    }

    @Test("the globals alone (for smbpasswd) are the server's globals, with no share")
    func globals() {
        let globals = Self.sample.renderGlobals()
        #expect(Self.sample.render().hasPrefix(globals))
        #expect(!globals.contains("[projects]"))
    }

    @Test("bad values are refused with a message, and none can smuggle a setting in", arguments: [
        ("path", "relative/dir", "absolute"),
        ("path", "/mnt/radon\n    path = /etc", "newline"),
        ("state", "state", "absolute"),
        ("share", "a]\n[global", "character"),
        ("share", "global", "reserves"),
        ("share", "", "1 to 80"),
        ("user", "root\n    admin users = x", "Unix user"),
        ("user", "-x", "Unix user"),
    ])
    func refused(field: String, value: String, message: String) {
        var configuration = Self.sample
        switch field {
        case "path": configuration.path = value
        case "state": configuration.stateDirectory = value
        case "share": configuration.shareName = value
        default: configuration.user = value
        }
        #expect(throws: ShareConfigurationError.self) { try configuration.validate() }
        do { try configuration.validate() } catch { #expect(error.description.contains(message), "\(error.description)") }
    }

    @Test("addresses and port are checked")
    func addresses() {
        var configuration = Self.sample
        configuration.listenAddresses = []
        #expect(throws: ShareConfigurationError("give at least one address to listen on (--listen)")) { try configuration.validate() }
        configuration.listenAddresses = ["10.0.0.1 0.0.0.0"]
        #expect(throws: ShareConfigurationError.self) { try configuration.validate() }
        configuration.listenAddresses = ["fe80::1%eth0", "10.0.0.1/24"]
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.port = 0
        #expect(throws: ShareConfigurationError.self) { try configuration.validate() }
    }

    @Test("the mount that holds a path: the longest mount point above it, escapes decoded")
    func mountLookup() {
        let mountInfo = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            40 22 0:45 / /mnt/radon rw,nosuid,nodev shared:20 - fuse.radonfs radonfs rw,user_id=0,group_id=0
            41 22 0:46 / /mnt/radon\\040two rw - fuse.radonfs radonfs rw
            42 40 0:47 / /mnt/radon/tmp rw - tmpfs tmpfs rw
            """
        #expect(MountedFileSystem.type(containing: "/mnt/radon/projects", mountInfo: mountInfo) == "fuse.radonfs")
        #expect(MountedFileSystem.type(containing: "/mnt/radon", mountInfo: mountInfo) == "fuse.radonfs")
        #expect(MountedFileSystem.type(containing: "/mnt/radon two/a", mountInfo: mountInfo) == "fuse.radonfs")
        #expect(MountedFileSystem.type(containing: "/mnt/radon/tmp/x", mountInfo: mountInfo) == "tmpfs")
        #expect(MountedFileSystem.type(containing: "/mnt/radonx", mountInfo: mountInfo) == "ext4")
    }
}
