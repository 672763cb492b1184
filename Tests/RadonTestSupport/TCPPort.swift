import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// TCP ports for servers a test starts and must name before they listen.
public enum TCPPort {
    /// A port nothing listens on now on `host` (bound, read, released): for a server that must
    /// know its port in advance (PostgreSQL's, or a metadata server that advertises it).
    public static func free(host: String = "127.0.0.1") throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) == 0 && getsockname(socketFD, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("cannot find a free port on \(host)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
