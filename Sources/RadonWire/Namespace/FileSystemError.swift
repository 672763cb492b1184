#if canImport(Glibc)
import Glibc
#endif

/// A POSIX error as the mount returns it to the kernel. Every layer below the mount throws these
/// (or wire errors that map to them), so an `ENOENT` from the metadata service reaches `ls` as
/// `ENOENT`, not as a generic I/O error.
public struct FileSystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errno value, positive.
    public var errno: Int32
    /// What went wrong, for logs and CLI messages.
    public var message: String

    public init(_ errno: Int32, _ message: String = "") {
        self.errno = errno
        self.message = message
    }

    public var description: String {
        let name = String(cString: strerror(errno))
        return message.isEmpty ? name : "\(name): \(message)"
    }

    public static func notFound(_ message: String = "") -> Self { .init(ENOENT, message) }
    public static func exists(_ message: String = "") -> Self { .init(EEXIST, message) }
    public static func notDirectory(_ message: String = "") -> Self { .init(ENOTDIR, message) }
    public static func isDirectory(_ message: String = "") -> Self { .init(EISDIR, message) }
    public static func notEmpty(_ message: String = "") -> Self { .init(ENOTEMPTY, message) }
    public static func invalid(_ message: String = "") -> Self { .init(EINVAL, message) }
    public static func permissionDenied(_ message: String = "") -> Self { .init(EACCES, message) }
    public static func notPermitted(_ message: String = "") -> Self { .init(EPERM, message) }
    public static func nameTooLong(_ message: String = "") -> Self { .init(ENAMETOOLONG, message) }
    public static func noSpace(_ message: String = "") -> Self { .init(ENOSPC, message) }
    public static func io(_ message: String = "") -> Self { .init(EIO, message) }
    public static func noAttribute(_ message: String = "") -> Self { .init(ENODATA, message) }
    public static func rangeTooSmall(_ message: String = "") -> Self { .init(ERANGE, message) }
    public static func unsupported(_ message: String = "") -> Self { .init(EOPNOTSUPP, message) }
    public static func crossDevice(_ message: String = "") -> Self { .init(EXDEV, message) }
    public static func tooManyLinks(_ message: String = "") -> Self { .init(EMLINK, message) }
    public static func badHandle(_ message: String = "") -> Self { .init(EBADF, message) }
    public static func readOnly(_ message: String = "") -> Self { .init(EROFS, message) }
    public static func timedOut(_ message: String = "") -> Self { .init(ETIMEDOUT, message) }
}
