#if canImport(Glibc)
import Glibc
#endif

/// The rule for what RadonFS keeps on disk: only its owner may read it. Fragment files hold a
/// file's bytes (with the systematic codec, verbatim), the metadata database holds every name,
/// and keys and logs say how to reach and impersonate the cluster, so state directories are
/// 0700 and state files 0600 whatever umask the daemon was started with.
///
/// Two ways hold it: daemons call `restrictNewFiles()` first (every file they or the libraries
/// they use create, SQLite's WAL included, is then private), and code that makes state asks for
/// the private modes explicitly, so the rule holds in a process that never set the umask (tests,
/// embedding). State left with wider modes by an older version is tightened when it is opened
/// (`tighten`).
public enum PrivateState {
    public static let directoryMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    /// Sets this process's umask to 077: nothing it creates from now on is readable by others.
    public static func restrictNewFiles() {
        umask(0o077)
    }

    /// Creates the directory `path` (and its missing parents) with mode 0700; an existing one
    /// is tightened to 0700.
    public static func makeDirectory(_ path: String) throws {
        try makeDirectories(path, mode: directoryMode)
        tighten(path)
    }

    /// Creates `path` and its missing parents with exactly `mode`, whatever the umask. An
    /// existing directory keeps its mode: it may be the user's (`--dir /srv`, `--mount /mnt`).
    public static func makeDirectories(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) == 0 {
                chmod(prefix, mode)
            } else if errno != EEXIST {
                throw WireError(WireStatus(errno: errno), "cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes every permission of group and others from `path` if it exists (a directory keeps
    /// its owner's search bit, a file its owner's bits); a missing path is left alone.
    public static func tighten(_ path: String) {
        var information = stat()
        guard stat(path, &information) == 0, information.st_mode & 0o077 != 0 else { return }
        chmod(path, information.st_mode & 0o700)
    }

    /// Writes `bytes` to `path` (replacing what was there) with mode 0600, created so that no
    /// other user can ever read it, and fsyncs it: keys and certificates.
    public static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else {
            throw WireError(WireStatus(errno: errno), "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // O_CREAT keeps the mode of a file that already existed; tighten it too.
        fchmod(descriptor, fileMode)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw WireError(WireStatus(errno: errno), "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
