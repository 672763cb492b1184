import Foundation

/// Which file system a path lives on, from /proc/self/mountinfo: the re-export commands refuse
/// a directory that is not on a RadonFS mount (sharing the empty mount point under a mount
/// that died, or a typo, would serve the local disk without a word).
enum MountedFileSystem {
    /// The type (`fuse.radonfs`, `ext4`, …) of the mount that holds `path`, a resolved
    /// absolute path: the one with the longest mount point above it.
    static func type(containing path: String, mountInfo: String) -> String? {
        var best: (mountPoint: String, type: String)?
        for line in mountInfo.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            // id parent major:minor root mountpoint options [optional…] - type source super
            guard fields.count > 6, let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count else { continue }
            let mountPoint = unescape(fields[4])
            let inside = mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
            if inside, mountPoint.count >= (best?.mountPoint.count ?? -1) {
                best = (mountPoint, fields[separator + 1])
            }
        }
        return best?.type
    }

    /// Checks that `path` is a directory on a RadonFS mount; returns it resolved (symbolic
    /// links followed), as Samba and Ganesha will see it.
    static func requireRadonFSDirectory(_ path: String) throws(ShareConfigurationError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .init("\(path) is not a directory")
        }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let mountInfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let type = Self.type(containing: resolved, mountInfo: mountInfo)
        guard type == "fuse.radonfs" else {
            throw .init("\(resolved) is on \(type ?? "an unknown file system"), not on a RadonFS mount (radonfs mount …); --any-file-system shares it anyway")
        }
        return resolved
    }

    /// mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040).
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
