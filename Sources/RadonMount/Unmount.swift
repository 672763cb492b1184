import Foundation
import Glibc

/// Unmounting a RadonFS mount, as root (umount2) or as a user (fusermount3 -u).
public enum Unmount {
    /// Unmounts the RadonFS mount at `path`; `lazy` detaches it even while files are open
    /// (it ends when the last one is closed).
    public static func unmount(_ path: String, lazy: Bool) throws(MountError) {
        guard let entry = MountTable.entry(at: path), entry.fileSystemType == MountOptions.fileSystemType else {
            throw .notMounted(path)
        }
        let resolved = entry.mountPoint
        if geteuid() == 0 {
            guard umount2(resolved, lazy ? Int32(MNT_DETACH) : 0) == 0 else {
                let code = errno
                if code == EBUSY { throw .busy(resolved) }
                throw .unmountFailed("\(resolved): \(String(cString: strerror(code)))")
            }
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
        process.arguments = ["-u"] + (lazy ? ["-z"] : []) + [resolved]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw .unmountFailed("cannot run fusermount3: \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if message.contains("busy") { throw .busy(resolved) }
            throw .unmountFailed(message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
