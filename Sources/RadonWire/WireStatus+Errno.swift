#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension WireStatus {
    /// The status that carries `errno` across the wire; errnos without their own status travel
    /// as `internalError` (and the exact errno rides along in the error payload).
    public init(errno: Int32) {
        switch errno {
        case ENOENT: self = .notFound
        case EEXIST: self = .exists
        case ENOTEMPTY: self = .notEmpty
        case ENOTDIR: self = .notDirectory
        case EISDIR: self = .isDirectory
        case ENOSPC, EDQUOT: self = .noSpace
        case EACCES, EPERM: self = .permissionDenied
        case EINVAL: self = .invalidArgument
        case ENAMETOOLONG: self = .nameTooLong
        case EXDEV: self = .crossDevice
        case EMLINK: self = .tooManyLinks
        case ENODATA: self = .noAttribute
        case ERANGE: self = .rangeTooSmall
        case EOPNOTSUPP, ENOSYS: self = .unsupported
        case ETIMEDOUT: self = .timedOut
        case EAGAIN, ECONNREFUSED, EHOSTUNREACH: self = .unavailable
        case EBADMSG: self = .corrupt
        case ESTALE: self = .staleVersion
        case EROFS: self = .readOnly
        default: self = .internalError
        }
    }

    /// The errno a POSIX caller sees for this status.
    public var errno: Int32 {
        switch self {
        case .ok: 0
        case .badRequest, .invalidArgument: EINVAL
        case .notFound: ENOENT
        case .exists: EEXIST
        case .notEmpty: ENOTEMPTY
        case .notDirectory: ENOTDIR
        case .isDirectory: EISDIR
        case .noSpace: ENOSPC
        case .staleVersion: ESTALE
        case .unauthorized, .permissionDenied: EACCES
        case .internalError, .corrupt: EIO
        case .unavailable: EIO
        case .nameTooLong: ENAMETOOLONG
        case .crossDevice: EXDEV
        case .tooManyLinks: EMLINK
        case .noAttribute: ENODATA
        case .rangeTooSmall: ERANGE
        case .unsupported: EOPNOTSUPP
        case .timedOut: ETIMEDOUT
        case .sessionExpired: ESTALE
        case .notActive: EIO
        case .readOnly: EROFS
        }
    }
}

extension WireError {
    /// The wire form of a POSIX error: its status, its message, and the exact errno.
    public init(_ error: FileSystemError) {
        self.init(WireStatus(errno: error.errno), error.message, errno: error.errno)
    }
}

extension FileSystemError {
    /// The POSIX error a failed request stands for: the exact errno when the server sent one,
    /// else the errno of the status.
    public init(_ wire: WireError) {
        self.init(wire.errno ?? wire.status.errno, wire.message)
    }
}
