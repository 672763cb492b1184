import Foundation

/// The kernel's table of mounts (/proc/self/mountinfo), to know whether a mount is live.
public enum MountTable {
    /// One mount: where it is and its file system type.
    public struct Entry: Sendable, Hashable {
        public var mountPoint: String
        public var fileSystemType: String
        public var source: String
        /// `major:minor` of the mount's device (for FUSE, its connection number).
        public var device: String
    }

    /// Every mount in this process's namespace.
    public static func entries() -> [Entry] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 4, let separator = fields.firstIndex(of: "-"), separator + 2 < fields.count else { return nil }
            return Entry(
                mountPoint: unescape(String(fields[4])), fileSystemType: String(fields[separator + 1]),
                source: unescape(String(fields[separator + 2])), device: String(fields[2]))
        }
    }

    /// The mount at `path` (after resolving symlinks), the last one if several are stacked.
    public static func entry(at path: String) -> Entry? {
        let all = entries()
        // The path as given first: resolving it stats the mount point, which would ask the mount.
        if let entry = all.last(where: { $0.mountPoint == path }) { return entry }
        let resolved = canonical(path)
        return all.last { $0.mountPoint == resolved }
    }

    /// Whether something is mounted at `path`.
    public static func isMountPoint(_ path: String) -> Bool { entry(at: path) != nil }

    /// Whether a RadonFS mount is live at `path`.
    public static func isRadonMount(_ path: String) -> Bool {
        entry(at: path)?.fileSystemType == MountOptions.fileSystemType
    }

    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
               let value = UInt8(String(decoding: utf8[index + 1...index + 3], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
