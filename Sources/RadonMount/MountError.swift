/// Why a mount could not start, stop or be found; each case says what to do about it.
public enum MountError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidOption(String)
    case mountPointMissing(String)
    case alreadyMounted(String)
    case notMounted(String)
    case busy(String)
    case sessionFailed(String)
    case unmountFailed(String)

    public var description: String {
        switch self {
        case .invalidOption(let message): "invalid mount option: \(message)"
        case .mountPointMissing(let path): "mount point \(path) does not exist or is not a directory"
        case .alreadyMounted(let path): "\(path) is already a mount point; unmount it first"
        case .notMounted(let path): "\(path) is not a RadonFS mount"
        case .busy(let path): "\(path) is busy (files or directories on it are in use); close them or unmount lazily"
        case .sessionFailed(let message): "cannot start the FUSE session: \(message)"
        case .unmountFailed(let message): "cannot unmount: \(message)"
        }
    }
}
