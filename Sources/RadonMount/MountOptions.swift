/// How a RadonFS mount talks to the kernel: cache timeouts, request sizes and mount flags.
///
/// The defaults trade a little staleness between mounts (at most `entryTimeout` for names) for
/// far fewer round trips; file contents and sizes still follow close-to-open because every
/// `open` drops the kernel's cached attributes and pages of that file.
public struct MountOptions: Sendable, Hashable {
    /// Seconds the kernel may trust attributes it was given (stat without a round trip).
    public var attributeTimeout: Double
    /// Seconds the kernel may trust a name-to-inode mapping it was given.
    public var entryTimeout: Double
    /// Largest write request the kernel sends, in bytes (libfuse caps it at 1 MiB).
    public var maximumWrite: UInt32
    /// Kernel read-ahead window for the mount's backing device, in KiB; nil leaves the default.
    public var readAheadKilobytes: Int?
    /// Lets users other than the one who mounted use the mount (needs root or user_allow_other).
    public var allowOther: Bool
    /// Mounts read-only.
    public var readOnly: Bool
    /// Logs every request libfuse receives (libfuse's own `-d`).
    public var debug: Bool
    /// Worker threads libfuse may run at most; each only hands requests to async code.
    public var maximumThreads: UInt32
    /// Name shown as the source in /proc/mounts and `df`.
    public var sourceName: String
    /// Extra `-o` options handed to the kernel mount as they are.
    public var extraOptions: [String]

    public init(
        attributeTimeout: Double = 1.0, entryTimeout: Double = 1.0, maximumWrite: UInt32 = 1 << 20,
        readAheadKilobytes: Int? = 1024, allowOther: Bool = true, readOnly: Bool = false, debug: Bool = false,
        maximumThreads: UInt32 = 16, sourceName: String = "radonfs", extraOptions: [String] = []
    ) {
        self.attributeTimeout = attributeTimeout
        self.entryTimeout = entryTimeout
        self.maximumWrite = maximumWrite
        self.readAheadKilobytes = readAheadKilobytes
        self.allowOther = allowOther
        self.readOnly = readOnly
        self.debug = debug
        self.maximumThreads = maximumThreads
        self.sourceName = sourceName
        self.extraOptions = extraOptions
    }

    /// The file system type the kernel shows for RadonFS mounts (`fuse.` + subtype).
    public static let fileSystemType = "fuse.radonfs"

    /// Options as `mount -o` spells them; unknown ones are rejected with a clear message.
    ///
    /// Understood: `ro`, `rw`, `allow_other`, `noallow_other`, `debug`, `attr_timeout=S`,
    /// `entry_timeout=S`, `max_write=BYTES`, `read_ahead_kb=KIB`, `threads=N`, `fsname=NAME`;
    /// the kernel's own `noatime`, `nodiratime`, `relatime`, `nosuid`, `nodev`, `noexec`,
    /// `suid`, `dev`, `exec`, `sync`, `async`, `dirsync` pass through.
    public mutating func apply(optionList: String) throws(MountError) {
        let passThrough: Set<String> = [
            "noatime", "nodiratime", "relatime", "strictatime", "nosuid", "nodev", "noexec",
            "suid", "dev", "exec", "sync", "async", "dirsync",
        ]
        for option in optionList.split(separator: ",").map(String.init) where !option.isEmpty {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            func number<T: LosslessStringConvertible>(_ type: T.Type) throws(MountError) -> T {
                guard let value, let parsed = T(value) else {
                    throw MountError.invalidOption("\(key) needs a number, as in \(key)=1")
                }
                return parsed
            }
            switch key {
            case "ro": readOnly = true
            case "rw": readOnly = false
            case "allow_other": allowOther = true
            case "noallow_other": allowOther = false
            case "debug": debug = true
            case "attr_timeout": attributeTimeout = try number(Double.self)
            case "entry_timeout": entryTimeout = try number(Double.self)
            case "max_write": maximumWrite = try number(UInt32.self)
            case "read_ahead_kb": readAheadKilobytes = try number(Int.self)
            case "threads": maximumThreads = max(1, try number(UInt32.self))
            case "fsname":
                guard let value, !value.isEmpty else { throw MountError.invalidOption("fsname needs a name") }
                sourceName = value
            default:
                guard passThrough.contains(key), value == nil else {
                    throw MountError.invalidOption("unknown mount option '\(option)'")
                }
                extraOptions.append(key)
            }
        }
    }
}
