/// The outcome of a request, carried in every reply frame's header.
///
/// Statuses name the POSIX failures the file system can report, so an `ENOENT` raised by the
/// metadata service comes back out of the mount as `ENOENT`, plus the failures of the cluster
/// itself (`staleVersion`, `unavailable`, `corrupt`, ...). The raw values are the wire encoding:
/// never renumber, only append.
public enum WireStatus: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case badRequest
    case notFound
    case exists
    case notEmpty
    case notDirectory
    case isDirectory
    case noSpace
    case staleVersion
    case unauthorized
    case internalError
    case unavailable
    case permissionDenied
    case invalidArgument
    case nameTooLong
    case crossDevice
    case tooManyLinks
    case noAttribute
    case rangeTooSmall
    case unsupported
    case corrupt
    case timedOut
    /// The client session named in the request lapsed (or the service restarted): the client
    /// opens a new one and asserts again what it held.
    case sessionExpired
    /// This metadata server is not the active one (a standby, or an active deposed by a
    /// takeover): the client asks the next metadata address instead.
    case notActive
    /// The caller's export is read-only (EROFS).
    case readOnly

    public var description: String {
        switch self {
        case .ok: "ok"
        case .badRequest: "bad request"
        case .notFound: "not found"
        case .exists: "exists"
        case .notEmpty: "not empty"
        case .notDirectory: "not a directory"
        case .isDirectory: "is a directory"
        case .noSpace: "no space left"
        case .staleVersion: "stale version"
        case .unauthorized: "unauthorized"
        case .internalError: "internal error"
        case .unavailable: "unavailable"
        case .permissionDenied: "permission denied"
        case .invalidArgument: "invalid argument"
        case .nameTooLong: "name too long"
        case .crossDevice: "cross-device link"
        case .tooManyLinks: "too many links"
        case .noAttribute: "no such attribute"
        case .rangeTooSmall: "result too large for buffer"
        case .unsupported: "unsupported"
        case .corrupt: "corrupt"
        case .timedOut: "timed out"
        case .sessionExpired: "session expired"
        case .notActive: "not the active metadata server"
        case .readOnly: "read-only file system"
        }
    }
}

/// A failed request as the caller sees it: the reply's status and the server's explanation.
///
/// `errno` is set when the server failed with a POSIX error (a `FileSystemError`), so the exact
/// errno survives the trip even where two errnos share one status (`EACCES`/`EPERM`).
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: WireStatus
    public var message: String
    /// The POSIX errno the server raised, when it raised one.
    public var errno: Int32?

    public init(_ status: WireStatus, _ message: String = "", errno: Int32? = nil) {
        self.status = status
        self.message = message
        self.errno = errno
    }

    public init(status: WireStatus, message: String, errno: Int32? = nil) {
        self.init(status, message, errno: errno)
    }

    public var description: String {
        message.isEmpty ? "\(status)" : "\(status): \(message)"
    }

    public static func badRequest(_ message: String) -> WireError { WireError(.badRequest, message) }
    /// The error every reader of a too-short payload throws.
    public static let truncated = WireError(.badRequest, "truncated")
}
