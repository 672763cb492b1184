import Foundation
import Synchronization

/// The serial numbers of certificates the cluster no longer accepts (the `revoked` file of a
/// `TLSDirectory`), read again whenever the file changes, so a revocation takes effect at the
/// revoked peer's next connection without restarting anything.
///
/// The file is lines of lowercase hex serials, each optionally followed by whitespace and a
/// comment (the name it was issued to); `#` lines and blank lines are ignored. A missing file
/// means nothing is revoked.
public final class CertificateRevocations: Sendable {
    private let path: String
    /// The file's modification time and size when last read, and the serials it held.
    private let cache = Mutex<(stamp: [Int], serials: Set<String>)>(([], []))

    public init(path: String) {
        self.path = path
    }

    /// Whether the serial (lowercase hex) is revoked, per the file as it is now.
    public func isRevoked(serial: String) -> Bool {
        var information = stat()
        let stamp: [Int] = stat(path, &information) == 0
            ? [information.st_mtim.tv_sec, information.st_mtim.tv_nsec, Int(information.st_size), Int(information.st_ino)]
            : []
        return cache.withLock { cache in
            if cache.stamp != stamp {
                cache = (stamp, stamp.isEmpty ? [] : Self.serials(in: (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""))
            }
            return cache.serials.contains(serial)
        }
    }

    /// The serials a revocation file's text names.
    static func serials(in text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isNewline).compactMap { line in
            let serial = line.split(whereSeparator: \.isWhitespace).first.map(String.init)
            guard let serial, !serial.hasPrefix("#") else { return nil }
            return serial.lowercased()
        })
    }

    /// Adds `serial` with its certificate's name to the file at `path` (made 0600 if new).
    public static func append(serial: String, name: String, to path: String) throws {
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard !serials(in: existing).contains(serial) else { return }
        // A new file renamed over the old one: a server reading meanwhile sees the old list or
        // the new one, never half of it.
        let temporary = path + ".new"
        try PrivateState.writeFile(Array((existing + "\(serial) \(name)\n").utf8), to: temporary)
        guard rename(temporary, path) == 0 else {
            throw WireError(WireStatus(errno: errno), "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
